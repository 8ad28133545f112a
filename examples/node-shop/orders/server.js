'use strict';
// The orders service: an order is accepted only for a user the users service knows.
//
//   POST /orders      {"user_id", "items": [{"sku", "quantity"}]} -> 201 the order
//                     422 {"error": "unknown_user"}; 503 {"error": "dependency_unavailable"}
//   GET  /orders/:id  -> 200 the order, 404 {"error": "order_not_found"}
//
// Calls users (USERS_URL) with a timeout, retries and a circuit breaker (lib/dependency.js).
// With PACT_PROVIDER_STATES=on it also serves POST /_pact/provider-states (see README.md).

const { HttpError, createService, dependencyUrl, finish, listen } = require('../lib/service');
const { Dependency } = require('../lib/dependency');

const usersUrl = dependencyUrl('USERS_URL');
const users = new Dependency('users', usersUrl);
const app = createService('orders');
const orders = new Map();
let nextId = 1;

function validOrder(body) {
  const { user_id: userId, items } = body || {};
  if (!Number.isSafeInteger(userId) || userId < 1) {
    throw new HttpError(400, 'invalid_order', '"user_id" must be a positive integer');
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > 50) {
    throw new HttpError(400, 'invalid_order', '"items" must list 1 to 50 items');
  }
  for (const item of items) {
    const ok =
      item &&
      typeof item.sku === 'string' &&
      /^[A-Z0-9-]{1,32}$/.test(item.sku) &&
      Number.isSafeInteger(item.quantity) &&
      item.quantity >= 1 &&
      item.quantity <= 1000;
    if (!ok) {
      throw new HttpError(400, 'invalid_order', 'each item needs a "sku" and a "quantity" (1-1000)');
    }
  }
  return { userId, items: items.map(({ sku, quantity }) => ({ sku, quantity })) };
}

app.post('/orders', async (req, res) => {
  const { userId, items } = validOrder(req.body);
  const user = await users.request('GET', `/users/${userId}`, {
    headers: { 'x-request-id': req.id },
  });
  if (user.status === 404) throw new HttpError(422, 'unknown_user', `no user ${userId}`);
  if (user.status !== 200) {
    throw new HttpError(502, 'bad_dependency_answer', `users answered ${user.status}`);
  }
  const order = {
    id: nextId++,
    user_id: userId,
    items,
    total_quantity: items.reduce((sum, item) => sum + item.quantity, 0),
    status: 'accepted',
    created_at: new Date().toISOString(),
  };
  orders.set(order.id, order);
  res.status(201).json(order);
});

app.get('/orders/:id', (req, res) => {
  const order = /^[1-9][0-9]{0,15}$/.test(req.params.id) && orders.get(Number(req.params.id));
  if (!order) throw new HttpError(404, 'order_not_found', `no order ${req.params.id}`);
  res.json(order);
});

if (process.env.PACT_PROVIDER_STATES === 'on') {
  // Placing an order needs a user on the users side: that state is forwarded to users'
  // own provider-state route, so the verified request runs the real call between the two.
  const forward = async (body) => {
    const response = await fetch(`${usersUrl}/_pact/provider-states`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new HttpError(502, 'state_failed', `users: ${await response.text()}`);
  };
  const states = {
    'a user exists': (params, body) => forward(body),
    'no user exists': (params, body) => forward(body),
    'an order exists': ({ id = 1, user_id: userId = 1, sku = 'SKU-1', quantity = 1 }) => {
      const order = {
        id: Number(id),
        user_id: Number(userId),
        items: [{ sku, quantity: Number(quantity) }],
        total_quantity: Number(quantity),
        status: 'accepted',
        created_at: new Date().toISOString(),
      };
      orders.set(order.id, order);
      nextId = Math.max(nextId, order.id + 1);
    },
  };
  app.post('/_pact/provider-states', async (req, res) => {
    const body = req.body || {};
    const { state, params = {}, action = 'setup' } = body;
    if (action === 'teardown') {
      orders.clear();
      await forward(body);
      return res.json({});
    }
    if (!state) return res.json({}); // an interaction without a state: nothing to set up
    const setUp = states[state];
    if (!setUp) throw new HttpError(400, 'unknown_state', `no provider state ${JSON.stringify(state)}`);
    await setUp(params, body);
    return res.json({});
  });
}

listen(finish(app), 'orders');
