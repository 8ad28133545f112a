'use strict';
// A client for one dependency (one outbound edge): every call has a timeout, safe calls are
// retried with exponential backoff and full jitter, and all of it runs behind a circuit
// breaker (opossum) whose state is exported per dependency:
//
//   upstream_circuit_state{upstream}                 0 closed, 1 half-open, 2 open
//   upstream_circuit_transitions_total{upstream,from,to}
//   upstream_requests_total{upstream,outcome}        ok, error_answer, failed, rejected
//   upstream_retries_total{upstream}
//
// Settings come from the environment (milliseconds): DEPENDENCY_TIMEOUT_MS (500),
// RETRY_ATTEMPTS (3 tries in all), RETRY_BACKOFF_MS (50), BREAKER_ERROR_PERCENT (50),
// BREAKER_VOLUME (5 calls before it may open), BREAKER_WINDOW_MS (5000),
// BREAKER_RESET_MS (3000 open before a trial call).

const CircuitBreaker = require('opossum');
const client = require('prom-client');
const { HttpError, envInt, registry } = require('./service');

const STATE_VALUES = { closed: 0, half_open: 1, open: 2 };

const circuitState = new client.Gauge({
  name: 'upstream_circuit_state',
  help: 'Circuit breaker towards each upstream: 0 closed, 1 half-open, 2 open',
  labelNames: ['upstream'],
  registers: [registry],
});
const circuitTransitions = new client.Counter({
  name: 'upstream_circuit_transitions_total',
  help: 'Circuit breaker state changes towards each upstream',
  labelNames: ['upstream', 'from', 'to'],
  registers: [registry],
});
const upstreamRequests = new client.Counter({
  name: 'upstream_requests_total',
  help: 'Calls to each upstream by outcome (after retries)',
  labelNames: ['upstream', 'outcome'],
  registers: [registry],
});
const upstreamRetries = new client.Counter({
  name: 'upstream_retries_total',
  help: 'Attempts repeated after a timeout, a connection error or a 5xx',
  labelNames: ['upstream'],
  registers: [registry],
});

/** An attempt that may succeed if repeated: timeout, connection error, 5xx. */
class TransientError extends Error {}

function settingsFromEnv() {
  return {
    timeoutMs: envInt('DEPENDENCY_TIMEOUT_MS', 500),
    attempts: Math.max(1, envInt('RETRY_ATTEMPTS', 3)),
    backoffMs: envInt('RETRY_BACKOFF_MS', 50),
    errorPercent: envInt('BREAKER_ERROR_PERCENT', 50),
    volume: envInt('BREAKER_VOLUME', 5),
    windowMs: envInt('BREAKER_WINDOW_MS', 5000),
    resetMs: envInt('BREAKER_RESET_MS', 3000),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Dependency {
  constructor(name, baseUrl, settings = settingsFromEnv()) {
    this.name = name;
    this.baseUrl = baseUrl;
    this.settings = settings;
    this.state = 'closed';
    this.breaker = new CircuitBreaker((call) => this.attempts(call), {
      timeout: false, // each attempt has its own timeout
      errorThresholdPercentage: settings.errorPercent,
      volumeThreshold: settings.volume,
      rollingCountTimeout: settings.windowMs,
      resetTimeout: settings.resetMs,
    });
    this.breaker.on('open', () => this.moveTo('open'));
    this.breaker.on('halfOpen', () => this.moveTo('half_open'));
    this.breaker.on('close', () => this.moveTo('closed'));
    circuitState.set({ upstream: name }, STATE_VALUES.closed);
    for (const [from, to] of [
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
      ['half_open', 'open'],
    ]) {
      circuitTransitions.inc({ upstream: name, from, to }, 0);
    }
    for (const outcome of ['ok', 'error_answer', 'failed', 'rejected']) {
      upstreamRequests.inc({ upstream: name, outcome }, 0);
    }
    upstreamRetries.inc({ upstream: name }, 0);
  }

  moveTo(state) {
    if (state === this.state) return;
    circuitTransitions.inc({ upstream: this.name, from: this.state, to: state });
    circuitState.set({ upstream: this.name }, STATE_VALUES[state]);
    console.log(`circuit to ${this.name}: ${this.state} -> ${state}`);
    this.state = state;
  }

  /**
   * Call the dependency; resolves to {status, body} for any answer below 500 (and a 503
   * `dependency_unavailable` of the dependency's own, relayed as is). Throws an
   * HttpError 503 `dependency_unavailable` when it cannot be reached in time, answers 5xx
   * after every attempt, or the breaker is open. `retry` only for safe or idempotent calls.
   */
  async request(method, path, { body, headers = {}, retry = method === 'GET' } = {}) {
    const call = { method, path, body, headers, retry };
    try {
      const answer = await this.breaker.fire(call);
      const outcome = answer.status >= 400 ? 'error_answer' : 'ok';
      upstreamRequests.inc({ upstream: this.name, outcome });
      return answer;
    } catch (err) {
      const rejected = err.code === 'EOPENBREAKER';
      upstreamRequests.inc({ upstream: this.name, outcome: rejected ? 'rejected' : 'failed' });
      const reason = rejected ? 'circuit open' : err.message;
      throw new HttpError(503, 'dependency_unavailable', `${this.name}: ${reason}`, {
        dependency: this.name,
      });
    }
  }

  async attempts(call) {
    const tries = call.retry ? this.settings.attempts : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(call);
      } catch (err) {
        if (!(err instanceof TransientError) || attempt >= tries) throw err;
        upstreamRetries.inc({ upstream: this.name });
        const cap = this.settings.backoffMs * 2 ** (attempt - 1);
        await sleep(Math.random() * cap); // full jitter
      }
    }
  }

  async once({ method, path, body, headers }) {
    const timeout = `no answer within ${this.settings.timeoutMs} ms`;
    const init = {
      method,
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(this.settings.timeoutMs),
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
    let response;
    let text;
    try {
      response = await fetch(this.baseUrl + path, init);
      text = await response.text();
    } catch (err) {
      throw new TransientError(err.name === 'TimeoutError' ? timeout : err.cause?.code || err.message);
    }
    let payload = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = null; // without JSON the caller decides from the status
    }
    // A 503 that names a dependency of the dependency is a fast, designed answer: it is
    // relayed, and says nothing about this edge's health (no retry, no breaker failure).
    const relayed = response.status === 503 && payload?.error === 'dependency_unavailable';
    if (response.status >= 500 && !relayed) {
      throw new TransientError(`answered ${response.status}`);
    }
    return { status: response.status, body: payload };
  }
}

module.exports = { Dependency, STATE_VALUES };
