'use strict';
// What every service of the example shares: an Express app with JSON bodies, request ids,
// Prometheus metrics at /metrics, a liveness route at /healthz, one error shape, and a
// listener on HOST:PORT from the environment.

const crypto = require('node:crypto');
const express = require('express');
const client = require('prom-client');

const registry = new client.Registry();

/** One error shape for every 4xx/5xx answer: {"error": code, "message": text}. */
class HttpError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

function createService(name) {
  registry.setDefaultLabels({ service: name });
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'http_server_requests_total',
    help: 'Requests answered by this service, by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Time to answer a request, by route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  app.use((req, res, next) => {
    req.id = req.get('x-request-id') || crypto.randomUUID();
    res.set('X-Request-ID', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route ? req.baseUrl + req.route.path : 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ method: req.method, route }, seconds);
    });
    next();
  });
  app.get('/healthz', (req, res) => res.json({ status: 'ok', service: name }));
  app.get('/metrics', async (req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return app;
}

/** Methods the app serves at `path` (Express itself answers a wrong method with 404). */
function allowedMethods(app, path) {
  const methods = new Set();
  for (const layer of app.router.stack) {
    if (layer.route && layer.match(path)) {
      for (const method of Object.keys(layer.route.methods)) methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** Call last: 405 for a known path with another method, 404 for unknown paths, and every
 * error as {"error", "message"}. */
function finish(app) {
  app.use((req, res) => {
    const allowed = allowedMethods(app, req.path);
    if (allowed.length > 0) {
      res.set('Allow', allowed.join(', '));
      res.status(405).json({
        error: 'method_not_allowed',
        message: `${req.method} is not allowed on ${req.path}; allowed: ${allowed.join(', ')}`,
      });
      return;
    }
    res.status(404).json({ error: 'not_found', message: `no route ${req.method} ${req.path}` });
  });
  // Express recognises an error handler by its four parameters.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message, ...err.extra });
    } else if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad_request', message: 'the body is not valid JSON' });
    } else if (err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ error: 'bad_request', message: err.expose ? err.message : 'bad request' });
    } else {
      console.error(`${req.method} ${req.path} failed:`, err);
      res.status(500).json({ error: 'internal', message: 'unexpected error' });
    }
  });
  return app;
}

/** Listen on HOST:PORT (defaults 127.0.0.1 and 0, a free port) and log the address. */
function listen(app, name) {
  const host = process.env.HOST || '127.0.0.1';
  const port = Number(process.env.PORT || 0);
  const server = app.listen(port, host, () => {
    const { port: bound } = server.address();
    console.log(`${name} listening on http://${host}:${bound}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

/** Positive integer from the environment, or `fallback`. */
function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The base URL of a dependency from `<NAME>_URL`; the service refuses to start without it. */
function dependencyUrl(variable) {
  const url = process.env[variable];
  if (!url) {
    console.error(`${variable} is not set: the URL of this service's dependency`);
    process.exit(2);
  }
  return url.replace(/\/+$/, '');
}

module.exports = { HttpError, createService, dependencyUrl, envInt, finish, listen, registry };
