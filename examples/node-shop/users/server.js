'use strict';
// The users service: people who can place orders, kept in memory.
//
//   POST /users       {"name", "email"} -> 201 {"id", "name", "email"}
//   GET  /users/:id   -> 200 the user, 404 {"error": "user_not_found"}
//   GET  /users       -> 200 {"users": [...]}
//
// With PACT_PROVIDER_STATES=on it also serves POST /_pact/provider-states, the provider-state
// route Pact's verifier calls before each interaction (see README.md).

const { HttpError, createService, finish, listen } = require('../lib/service');

const app = createService('users');
const users = new Map();
let nextId = 1;

function validUser(body) {
  const { name, email } = body || {};
  // lengths in code points, as JSON Schema counts them
  const length = (text) => [...text].length;
  if (typeof name !== 'string' || length(name) < 1 || length(name) > 200) {
    throw new HttpError(400, 'invalid_user', '"name" must be a string of 1 to 200 characters');
  }
  if (typeof email !== 'string' || !/^[^@ \t\r\n]+@[^@ \t\r\n]+$/.test(email) || length(email) > 200) {
    throw new HttpError(400, 'invalid_user', '"email" must be an email address');
  }
  return { name, email };
}

function userId(raw) {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new HttpError(404, 'user_not_found', `no user ${raw}`);
  return Number(raw);
}

app.post('/users', (req, res) => {
  const user = { id: nextId++, ...validUser(req.body) };
  users.set(user.id, user);
  res.status(201).json(user);
});

app.get('/users', (req, res) => {
  res.json({ users: [...users.values()] });
});

app.get('/users/:id', (req, res) => {
  const user = users.get(userId(req.params.id));
  if (!user) throw new HttpError(404, 'user_not_found', `no user ${req.params.id}`);
  res.json(user);
});

if (process.env.PACT_PROVIDER_STATES === 'on') {
  // {"state": "a user exists", "params": {"id": 7, ...}, "action": "setup" | "teardown"}
  const states = {
    'a user exists': ({ id = 1, name = 'Ada Lovelace', email = 'ada@example.test' }) => {
      users.set(Number(id), { id: Number(id), name, email });
      nextId = Math.max(nextId, Number(id) + 1);
    },
    'no user exists': () => users.clear(),
  };
  app.post('/_pact/provider-states', (req, res) => {
    const { state, params = {}, action = 'setup' } = req.body || {};
    if (action === 'teardown') {
      users.clear();
      return res.json({});
    }
    if (!state) return res.json({}); // an interaction without a state: nothing to set up
    const setUp = states[state];
    if (!setUp) throw new HttpError(400, 'unknown_state', `no provider state ${JSON.stringify(state)}`);
    setUp(params);
    return res.json({});
  });
}

listen(finish(app), 'users');
