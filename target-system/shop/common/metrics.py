"""The metrics contract (README "Metrics"): one registry per process, every series has `service`.

Names and labels here are what the harness asserts on; change them only with the README.
Framework-free, so the Flask service can serve them too (`render_latest`).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# Latency buckets (seconds) spanning fast loopback calls to the slowest timeouts we configure.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    0.8,
    1.0,
    2.5,
    5.0,
    10.0,
)

# Values of shop_breaker_state.
BREAKER_STATE_VALUES = {"closed": 0, "open": 1, "half_open": 2}

# Outcomes of shop_outbound_requests_total.
OUTCOME_SUCCESS = "success"
OUTCOME_HTTP_ERROR = "http_error"
OUTCOME_TIMEOUT = "timeout"
OUTCOME_CONNECT_ERROR = "connect_error"
OUTCOME_RESET = "reset"
OUTCOME_REJECTED_BREAKER = "rejected_breaker"
OUTCOME_REJECTED_BULKHEAD = "rejected_bulkhead"

HTTP_REQUESTS = Counter(
    "shop_http_requests_total",
    "Requests served, by route template.",
    ["service", "method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "shop_http_request_duration_seconds",
    "Server-side request latency.",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
OUTBOUND_REQUESTS = Counter(
    "shop_outbound_requests_total",
    "Outbound attempts by outcome.",
    ["service", "dependency", "method", "outcome"],
    registry=REGISTRY,
)
OUTBOUND_REQUEST_DURATION = Histogram(
    "shop_outbound_request_duration_seconds",
    "Outbound attempt latency.",
    ["service", "dependency"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
OUTBOUND_RETRIES = Counter(
    "shop_outbound_retries_total",
    "Retries made (attempts after the first).",
    ["service", "dependency"],
    registry=REGISTRY,
)
# The retry rule read directly, not through an average: the most attempts any single logical
# call made (per edge and method; keyed = whether it carried an Idempotency-Key), and each
# wait between two attempts of one call (from the end of one attempt to the next's start).
OUTBOUND_ATTEMPTS_MAX = Gauge(
    "shop_outbound_attempts_max",
    "Most attempts one logical call has made since start (1 = never retried).",
    ["service", "dependency", "method", "keyed"],
    registry=REGISTRY,
)
RETRY_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
OUTBOUND_RETRY_WAIT = Histogram(
    "shop_outbound_retry_wait_seconds",
    "Time between the end of an attempt and the start of the same call's next attempt.",
    ["service", "dependency"],
    buckets=RETRY_WAIT_BUCKETS,
    registry=REGISTRY,
)
RETRY_BUDGET_EXHAUSTED = Counter(
    "shop_retry_budget_exhausted_total",
    "Retries skipped because the retry budget was spent.",
    ["service", "dependency"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "shop_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
    ["service", "dependency"],
    registry=REGISTRY,
)
BREAKER_TRANSITIONS = Counter(
    "shop_breaker_transitions_total",
    "Circuit breaker transitions.",
    ["service", "dependency", "from_state", "to_state"],
    registry=REGISTRY,
)
BREAKER_REJECTED = Counter(
    "shop_breaker_rejected_total",
    "Calls refused by an open (or full half-open) breaker.",
    ["service", "dependency"],
    registry=REGISTRY,
)
BULKHEAD_IN_USE = Gauge(
    "shop_bulkhead_in_use",
    "Concurrent outbound calls in flight.",
    ["service", "dependency"],
    registry=REGISTRY,
)
BULKHEAD_REJECTED = Counter(
    "shop_bulkhead_rejected_total",
    "Calls refused by a full bulkhead.",
    ["service", "dependency"],
    registry=REGISTRY,
)
SAGA_TOTAL = Counter(
    "shop_saga_total",
    "Sagas ended, by outcome: completed, compensated, failed.",
    ["service", "outcome"],
    registry=REGISTRY,
)
SAGAS_IN_FLIGHT = Gauge(
    "shop_sagas_in_flight",
    "Sagas not yet terminal (includes compensating).",
    ["service"],
    registry=REGISTRY,
)
SAGA_STEPS = Counter(
    "shop_saga_step_total",
    "Saga steps by outcome: success, failure, unknown.",
    ["service", "step", "outcome"],
    registry=REGISTRY,
)
SAGA_RECOVERED = Counter(
    "shop_saga_recovered_total",
    "Sagas found in flight at start-up, by action: resumed, compensated.",
    ["service", "action"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "shop_outbox_backlog",
    "Events written, not yet delivered.",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_DELIVERED = Counter(
    "shop_outbox_delivered_total",
    "Outbox events delivered.",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_DELIVERY_FAILURES = Counter(
    "shop_outbox_delivery_failures_total",
    "Outbox delivery attempts that failed.",
    ["service"],
    registry=REGISTRY,
)
PAYMENTS = Counter(
    "shop_payments_total",
    "Payments by outcome: captured, declined, refunded, replayed.",
    ["service", "outcome"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "shop_notifications_total",
    "Events received by outcome: accepted, duplicate.",
    ["service", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "shop_rate_limited_total",
    "Requests refused by the gateway's rate limit.",
    ["service", "client"],
    registry=REGISTRY,
)


def render_latest() -> tuple[bytes, str]:
    """The registry in Prometheus text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def sample_value(name: str, labels: dict[str, str]) -> float:
    """A sample's current value (0.0 when the series does not exist yet); handy in tests."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value
