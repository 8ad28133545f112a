"""`ResilientClient`: the one way a service calls another.

Per logical request: bulkhead (held for the whole call, retries included) -> retry loop ->
per attempt: breaker permit -> HTTP attempt with connect/read timeouts. Every attempt,
outcome, retry, breaker transition and rejection is counted in the metrics contract.

Responses >= 500 count as breaker failures and are retried when the request is retryable,
except those marked `X-Do-Not-Retry`: the dependency already retried its own dependency, and
retries at two layers multiply (retries happen at one layer: the deepest caller's). After the
last attempt they raise `DependencyUnavailable`. Responses < 500 (4xx included)
are returned as they are. Transport errors raise `DependencyUnavailable`, whose
`outcome_unknown` says whether the request may have reached the dependency in ANY of its
attempts: a reset after sending followed by a refused retry is still unknown.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random as _random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

import httpx

from shop.common import metrics
from shop.common.breaker import BreakerOpen, BreakerState, CircuitBreaker
from shop.common.bulkhead import Bulkhead
from shop.common.context import REQUEST_ID_HEADER, get_request_id
from shop.common.errors import DO_NOT_RETRY_HEADER, DependencyUnavailable
from shop.common.retry import RetryBudget, RetryPolicy, Sleep, build_retrying, is_retryable_request
from shop.common.settings import ServiceSettings

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

# Attempt outcomes a retry may fix; breaker and bulkhead rejections are final.
_RETRYABLE_OUTCOMES = frozenset(
    {
        metrics.OUTCOME_HTTP_ERROR,
        metrics.OUTCOME_TIMEOUT,
        metrics.OUTCOME_CONNECT_ERROR,
        metrics.OUTCOME_RESET,
    }
)


def classify_transport_error(exc: httpx.TransportError) -> tuple[str, bool]:
    """(metrics outcome, outcome_unknown) for a transport error.

    Unknown means the request may have reached the server: anything after the connection
    was established (read/write timeout, reset, server hung up mid-exchange).
    """
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return metrics.OUTCOME_TIMEOUT, False
    if isinstance(exc, httpx.TimeoutException):
        return metrics.OUTCOME_TIMEOUT, True
    if isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol | httpx.ProxyError):
        return metrics.OUTCOME_CONNECT_ERROR, False
    return metrics.OUTCOME_RESET, True


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process for every dependency's client: httpx would otherwise read
    the CA bundle for each client it creates (about 50 ms of CPU each, at every start)."""
    if os.environ.get("SSL_CERT_FILE"):  # the CA certificates httpx itself would trust
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class _RetriedDownstream(DependencyUnavailable):
    """A 5xx marked `X-Do-Not-Retry`: the dependency retried its own dependency already."""


def _should_retry(exc: BaseException) -> bool:
    return (
        isinstance(exc, DependencyUnavailable)
        and not isinstance(exc, _RetriedDownstream)
        and exc.outcome in _RETRYABLE_OUTCOMES
    )


class _StickyUnknown:
    """One logical request's attempts: once an attempt may have reached the dependency, every
    later failure says so too (a retry refused at connect cannot undo what an earlier attempt
    may have done). Counts the attempts and reports each wait between two of them."""

    def __init__(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        *,
        clock: Callable[[], float],
        on_wait: Callable[[float], None],
    ) -> None:
        self._attempt = attempt
        self._clock = clock
        self._on_wait = on_wait
        self._last_end: float | None = None
        self.may_have_reached = False
        self.attempts = 0

    async def __call__(self) -> httpx.Response:
        if self._last_end is not None:
            self._on_wait(max(0.0, self._clock() - self._last_end))
        self.attempts += 1
        try:
            return await self._attempt()
        except DependencyUnavailable as exc:
            self.may_have_reached = self.may_have_reached or exc.outcome_unknown
            exc.outcome_unknown = self.may_have_reached
            raise
        finally:
            self._last_end = self._clock()


class ResilientClient:
    """HTTP client for one dependency (`service -> dependency` edge) with every protection.

    Keyword-only arguments:
    - `service`, `dependency`: metric labels (caller and callee names).
    - `base_url`: the dependency's base URL (the harness may point it at a fault proxy).
    - `settings`: timeouts, retry, breaker and bulkhead knobs.
    - `clock` (time.monotonic): used by the breaker, the retry budget and attempt timing.
    - `transport` (None: real network): an httpx transport, e.g. `httpx.MockTransport`.
    - `sleep` (asyncio.sleep) / `random` (random.random): backoff seams for tests.
    """

    def __init__(
        self,
        *,
        service: str,
        dependency: str,
        base_url: str,
        settings: ServiceSettings,
        clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        self.service = service
        self.dependency = dependency
        self.base_url = base_url
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._random = random or _random.random
        self._labels = {"service": service, "dependency": dependency}
        self.breaker = CircuitBreaker(
            failure_rate_threshold=settings.breaker_failure_rate,
            window_size=settings.breaker_window_size,
            min_calls=settings.breaker_min_calls,
            slow_call_seconds=settings.breaker_slow_call_seconds,
            slow_call_rate_threshold=settings.breaker_slow_call_rate,
            open_seconds=settings.breaker_open_seconds,
            half_open_calls=settings.breaker_half_open_calls,
            enabled=settings.breaker_enabled,
            clock=self._clock,
            on_state_change=self._on_breaker_transition,
        )
        self.bulkhead = Bulkhead(
            settings.bulkhead_max_concurrent,
            on_change=metrics.BULKHEAD_IN_USE.labels(**self._labels).set,
        )
        self.retry_policy = RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            backoff_base=settings.retry_backoff_base,
            backoff_max=settings.retry_backoff_max,
        )
        self.retry_budget = RetryBudget(
            ratio=settings.retry_budget_ratio,
            window_seconds=settings.retry_budget_window_seconds,
            min_retries=settings.retry_budget_min_retries,
            clock=self._clock,
        )
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(
                connect=settings.http_connect_timeout,
                read=settings.http_read_timeout,
                write=settings.http_read_timeout,
                pool=settings.http_connect_timeout,
            ),
            limits=httpx.Limits(max_connections=settings.bulkhead_max_concurrent),
            verify=tls_context(),
        )
        self._max_attempts: dict[tuple[str, bool], int] = {}
        self._init_series()

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical request (maybe several attempts); see the module docstring."""
        method = method.upper()
        sent_headers = self._outbound_headers(headers, idempotency_key)
        keyed = any(name.lower() == "idempotency-key" for name in sent_headers)
        attempt = _StickyUnknown(
            partial(self._attempt, method, path, json, params, sent_headers),
            clock=self._clock,
            on_wait=metrics.OUTBOUND_RETRY_WAIT.labels(**self._labels).observe,
        )
        if not self.bulkhead.try_acquire():
            metrics.BULKHEAD_REJECTED.labels(**self._labels).inc()
            self._count(method, metrics.OUTCOME_REJECTED_BULKHEAD)
            raise DependencyUnavailable(
                self.dependency,
                "bulkhead full",
                outcome_unknown=False,
                outcome=metrics.OUTCOME_REJECTED_BULKHEAD,
            )
        try:
            self.retry_budget.record_request()
            if not is_retryable_request(method, has_idempotency_key=keyed):
                return await attempt()
            retrying = build_retrying(
                self.retry_policy,
                should_retry=_should_retry,
                budget=self.retry_budget,
                sleep=self._sleep,
                random=self._random,
                on_retry=metrics.OUTBOUND_RETRIES.labels(**self._labels).inc,
                on_budget_exhausted=metrics.RETRY_BUDGET_EXHAUSTED.labels(**self._labels).inc,
            )
            response: httpx.Response = await retrying(attempt)
            return response
        finally:
            self.bulkhead.release()
            self._record_attempts(method, attempt.attempts, keyed=keyed)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- one attempt -----------------------------------------------------------------------

    async def _attempt(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        try:
            permit = self.breaker.acquire()
        except BreakerOpen as exc:
            metrics.BREAKER_REJECTED.labels(**self._labels).inc()
            self._count(method, metrics.OUTCOME_REJECTED_BREAKER)
            raise DependencyUnavailable(
                self.dependency,
                f"circuit breaker {exc.state.value}",
                outcome_unknown=False,
                outcome=metrics.OUTCOME_REJECTED_BREAKER,
            ) from exc
        started = self._clock()
        try:
            response = await self._http.request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            duration = self._observe(started)
            permit.failure(duration)
            outcome, unknown = classify_transport_error(exc)
            self._count(method, outcome)
            reason = f"{outcome}: {type(exc).__name__}"
            raise DependencyUnavailable(
                self.dependency, reason, outcome_unknown=unknown, outcome=outcome
            ) from exc
        except BaseException:
            permit.release()  # cancelled: no outcome to report
            raise
        duration = self._observe(started)
        if response.status_code >= 500:
            permit.failure(duration)
            self._count(method, metrics.OUTCOME_HTTP_ERROR)
            final = DO_NOT_RETRY_HEADER in response.headers
            raise (_RetriedDownstream if final else DependencyUnavailable)(
                self.dependency,
                f"HTTP {response.status_code}",
                outcome_unknown=True,
                status_code=response.status_code,
                outcome=metrics.OUTCOME_HTTP_ERROR,
            )
        permit.success(duration)
        self._count(method, metrics.OUTCOME_SUCCESS)
        return response

    # -- helpers ---------------------------------------------------------------------------

    def _outbound_headers(
        self, headers: Mapping[str, str] | None, idempotency_key: str | None
    ) -> dict[str, str]:
        sent = dict(headers or {})
        if idempotency_key is not None:
            sent[IDEMPOTENCY_KEY_HEADER] = idempotency_key
        request_id = get_request_id()
        if request_id and not any(name.lower() == "x-request-id" for name in sent):
            sent[REQUEST_ID_HEADER] = request_id
        return sent

    def _observe(self, started: float) -> float:
        duration = max(0.0, self._clock() - started)
        metrics.OUTBOUND_REQUEST_DURATION.labels(**self._labels).observe(duration)
        return duration

    def _record_attempts(self, method: str, attempts: int, *, keyed: bool) -> None:
        """Keep `shop_outbound_attempts_max` at the most attempts one call has made."""
        if attempts > self._max_attempts.get((method, keyed), 0):
            self._max_attempts[method, keyed] = attempts
            metrics.OUTBOUND_ATTEMPTS_MAX.labels(
                **self._labels, method=method, keyed=str(keyed).lower()
            ).set(attempts)

    def _count(self, method: str, outcome: str) -> None:
        metrics.OUTBOUND_REQUESTS.labels(**self._labels, method=method, outcome=outcome).inc()

    def _on_breaker_transition(self, old: BreakerState, new: BreakerState) -> None:
        metrics.BREAKER_TRANSITIONS.labels(
            **self._labels, from_state=old.value, to_state=new.value
        ).inc()
        metrics.BREAKER_STATE.labels(**self._labels).set(metrics.BREAKER_STATE_VALUES[new.value])

    def _init_series(self) -> None:
        """Create this edge's series at 0, so rates and absences read well from the start."""
        metrics.BREAKER_STATE.labels(**self._labels).set(0)
        metrics.BULKHEAD_IN_USE.labels(**self._labels).set(0)
        for method in ("GET", "POST"):
            for keyed in ("true", "false"):
                metrics.OUTBOUND_ATTEMPTS_MAX.labels(
                    **self._labels, method=method, keyed=keyed
                ).set(0)
        metrics.OUTBOUND_RETRY_WAIT.labels(**self._labels)
        for counter in (
            metrics.BREAKER_REJECTED,
            metrics.BULKHEAD_REJECTED,
            metrics.OUTBOUND_RETRIES,
            metrics.RETRY_BUDGET_EXHAUSTED,
        ):
            counter.labels(**self._labels)
