'use strict';
// The gateway: the single entry point, under /api, in front of users and orders.
//
//   POST /api/users        -> users  POST /users        (not retried: it creates)
//   GET  /api/users/:id    -> users  GET  /users/:id
//   POST /api/orders       -> orders POST /orders       (not retried: it creates)
//   GET  /api/orders/:id   -> orders GET  /orders/:id
//
// A dependency's 2xx/4xx answer is relayed as is; when it cannot answer (timeout, 5xx after
// retries, circuit open) the gateway answers 503 {"error": "dependency_unavailable"}.
// Dependencies come from USERS_URL and ORDERS_URL. Its OpenAPI document: /api/openapi.json.

const { createService, dependencyUrl, finish, listen } = require('../lib/service');
const { Dependency } = require('../lib/dependency');

const users = new Dependency('users', dependencyUrl('USERS_URL'));
const orders = new Dependency('orders', dependencyUrl('ORDERS_URL'));
const app = createService('gateway');
const openapi = require('./openapi.json');

app.get('/api/openapi.json', (req, res) => res.json(openapi));

function relay(dependency, method, path) {
  return async (req, res) => {
    const target = path.replace(/:(\w+)/g, (_, key) => encodeURIComponent(req.params[key]));
    const answer = await dependency.request(method, target, {
      body: method === 'GET' ? undefined : req.body,
      headers: { 'x-request-id': req.id },
    });
    res.status(answer.status).json(answer.body);
  };
}

app.post('/api/users', relay(users, 'POST', '/users'));
app.get('/api/users/:id', relay(users, 'GET', '/users/:id'));
app.post('/api/orders', relay(orders, 'POST', '/orders'));
app.get('/api/orders/:id', relay(orders, 'GET', '/orders/:id'));

listen(finish(app), 'gateway');
