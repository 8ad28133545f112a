"""ResilientClient against httpx.MockTransport: retries, breaker, bulkhead, outcomes, metrics."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine

import httpx
import pytest
from shop.common.breaker import BreakerState
from shop.common.client import ResilientClient
from shop.common.context import reset_request_id, set_request_id
from shop.common.errors import DO_NOT_RETRY_HEADER, DependencyUnavailable
from shop.common.metrics import sample_value
from shop.common.settings import ServiceSettings
from shop_fakes import FakeClock

Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


class Upstream:
    """A scripted dependency: each request gets the next scripted answer (the last repeats)."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers) or [200]
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"status": answer})


def settings(**overrides: object) -> ServiceSettings:
    base: dict[str, object] = {
        "retry_max_attempts": 3,
        "retry_budget_min_retries": 100,
        "breaker_min_calls": 4,
        "breaker_window_size": 10,
        "breaker_open_seconds": 5.0,
        "breaker_half_open_calls": 1,
    }
    base.update(overrides)
    return ServiceSettings(**base)  # type: ignore[arg-type]


class Harness:
    def __init__(self, service: str, handler: Handler, **overrides: object) -> None:
        self.clock = FakeClock()
        self.sleeps: list[float] = []
        self.labels = {"service": service, "dependency": "payments"}
        self.client = ResilientClient(
            service=service,
            dependency="payments",
            base_url="http://payments.test",
            settings=settings(**overrides),
            clock=self.clock,
            transport=httpx.MockTransport(handler),
            sleep=self._sleep,
        )

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def outcomes(self, outcome: str, method: str = "GET") -> float:
        return sample_value(
            "shop_outbound_requests_total", {**self.labels, "method": method, "outcome": outcome}
        )

    def metric(self, name: str, **extra: str) -> float:
        return sample_value(name, {**self.labels, **extra})


def state_of(client: ResilientClient) -> BreakerState:
    return client.breaker_state


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("read timed out")


@pytest.mark.anyio
async def test_successful_call_returns_the_response_and_counts_success(
    unique_service: str,
) -> None:
    upstream = Upstream(200)
    h = Harness(unique_service, upstream)
    response = await h.client.get("/payments/1")
    assert response.status_code == 200
    assert response.json() == {"status": 200}
    assert h.outcomes("success") == 1
    assert h.metric("shop_outbound_request_duration_seconds_count") == 1
    await h.client.aclose()


@pytest.mark.anyio
async def test_4xx_is_returned_without_retry_and_is_not_a_breaker_failure(
    unique_service: str,
) -> None:
    upstream = Upstream(404)
    h = Harness(unique_service, upstream, breaker_min_calls=2)
    for _ in range(4):
        assert (await h.client.get("/payments/9")).status_code == 404
    assert len(upstream.requests) == 4
    assert state_of(h.client) is BreakerState.CLOSED
    assert h.metric("shop_outbound_retries_total") == 0


@pytest.mark.anyio
async def test_5xx_on_a_safe_method_is_retried_then_raises_dependency_unavailable(
    unique_service: str,
) -> None:
    upstream = Upstream(503)
    h = Harness(unique_service, upstream, breaker_min_calls=10)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.get("/payments/1")
    assert len(upstream.requests) == 3
    assert raised.value.outcome_unknown
    assert raised.value.upstream_status == 503
    assert raised.value.dependency == "payments"
    assert h.outcomes("http_error") == 3
    assert h.metric("shop_outbound_retries_total") == 2
    assert len(h.sleeps) == 2


@pytest.mark.anyio
async def test_a_5xx_marked_do_not_retry_is_not_retried_even_when_keyed(
    unique_service: str,
) -> None:
    """The dependency retried its own dependency already: retries at one layer only."""
    requests: list[httpx.Request] = []

    async def retried_downstream(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            503, json={"error": "dependency_unavailable"}, headers={DO_NOT_RETRY_HEADER: "x"}
        )

    h = Harness(unique_service, retried_downstream, breaker_min_calls=10)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.post("/orders", json={}, idempotency_key="k-1")
    assert len(requests) == 1
    assert raised.value.upstream_status == 503
    assert h.outcomes("http_error", "POST") == 1
    assert h.metric("shop_outbound_retries_total") == 0


@pytest.mark.anyio
async def test_retry_recovers_from_a_transient_5xx(unique_service: str) -> None:
    upstream = Upstream(500, 200)
    h = Harness(unique_service, upstream)
    assert (await h.client.get("/payments/1")).status_code == 200
    assert len(upstream.requests) == 2


@pytest.mark.anyio
async def test_post_without_idempotency_key_is_never_retried(unique_service: str) -> None:
    upstream = Upstream(read_timeout(), 201)
    h = Harness(unique_service, upstream)
    with pytest.raises(DependencyUnavailable):
        await h.client.post("/payments", json={"amount_cents": 1})
    assert len(upstream.requests) == 1


@pytest.mark.anyio
async def test_post_with_idempotency_key_is_retried_with_the_same_key(
    unique_service: str,
) -> None:
    upstream = Upstream(read_timeout(), 201)
    h = Harness(unique_service, upstream)
    response = await h.client.post("/payments", json={"amount_cents": 1}, idempotency_key="k-1")
    assert response.status_code == 201
    assert [r.headers["Idempotency-Key"] for r in upstream.requests] == ["k-1", "k-1"]
    assert upstream.requests[0].content == upstream.requests[1].content


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("error", "outcome", "unknown"),
    [
        (httpx.ConnectError("refused"), "connect_error", False),
        (httpx.ConnectTimeout("connect timed out"), "timeout", False),
        (httpx.ReadTimeout("read timed out"), "timeout", True),
        (httpx.RemoteProtocolError("server disconnected"), "reset", True),
        (httpx.ReadError("connection reset by peer"), "reset", True),
    ],
)
async def test_transport_errors_say_whether_the_outcome_is_unknown(
    unique_service: str, error: Exception, outcome: str, unknown: bool
) -> None:
    h = Harness(unique_service, Upstream(error), retry_max_attempts=1)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.post("/payments")
    assert raised.value.outcome_unknown is unknown
    assert raised.value.outcome == outcome
    assert h.outcomes(outcome, method="POST") == 1


@pytest.mark.anyio
async def test_open_breaker_rejects_calls_without_reaching_the_dependency(
    unique_service: str,
) -> None:
    upstream = Upstream(503)
    h = Harness(unique_service, upstream, retry_max_attempts=1, breaker_min_calls=4)
    for _ in range(4):
        with pytest.raises(DependencyUnavailable):
            await h.client.get("/payments/1")
    assert state_of(h.client) is BreakerState.OPEN
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.get("/payments/1")
    assert not raised.value.outcome_unknown
    assert raised.value.outcome == "rejected_breaker"
    assert len(upstream.requests) == 4
    assert h.metric("shop_breaker_rejected_total") == 1
    assert h.outcomes("rejected_breaker") == 1
    assert h.metric("shop_breaker_state") == 1
    assert h.metric("shop_breaker_transitions_total", from_state="closed", to_state="open") == 1


@pytest.mark.anyio
async def test_retries_stop_as_soon_as_the_breaker_opens(unique_service: str) -> None:
    upstream = Upstream(503)
    h = Harness(unique_service, upstream, retry_max_attempts=5, breaker_min_calls=2)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.get("/payments/1")
    assert raised.value.outcome == "rejected_breaker"
    assert len(upstream.requests) == 2


@pytest.mark.anyio
async def test_breaker_closes_after_a_successful_half_open_trial(unique_service: str) -> None:
    upstream = Upstream(503, 503, 503, 503, 200)
    h = Harness(unique_service, upstream, retry_max_attempts=1, breaker_min_calls=4)
    for _ in range(4):
        with pytest.raises(DependencyUnavailable):
            await h.client.get("/payments/1")
    h.clock.advance(5)
    assert state_of(h.client) is BreakerState.HALF_OPEN
    assert h.metric("shop_breaker_state") == 2
    assert (await h.client.get("/payments/1")).status_code == 200
    assert state_of(h.client) is BreakerState.CLOSED
    assert h.metric("shop_breaker_state") == 0
    assert (
        h.metric("shop_breaker_transitions_total", from_state="half_open", to_state="closed") == 1
    )


@pytest.mark.anyio
async def test_slow_successful_calls_open_the_breaker(unique_service: str) -> None:
    h: Harness

    async def slow(request: httpx.Request) -> httpx.Response:
        h.clock.advance(2.0)  # the fake clock says the call took 2 s
        return httpx.Response(200)

    h = Harness(
        unique_service,
        slow,
        breaker_slow_call_seconds=1.0,
        breaker_slow_call_rate=0.8,
        breaker_min_calls=4,
    )
    for _ in range(4):
        await h.client.get("/payments/1")
    assert state_of(h.client) is BreakerState.OPEN


@pytest.mark.anyio
async def test_disabled_breaker_lets_every_call_through(unique_service: str) -> None:
    upstream = Upstream(503)
    h = Harness(unique_service, upstream, retry_max_attempts=1, breaker_enabled=False)
    for _ in range(10):
        with pytest.raises(DependencyUnavailable):
            await h.client.get("/payments/1")
    assert len(upstream.requests) == 10
    assert state_of(h.client) is BreakerState.CLOSED


@pytest.mark.anyio
async def test_full_bulkhead_rejects_at_once(unique_service: str) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def blocking(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await release.wait()
        return httpx.Response(200)

    h = Harness(unique_service, blocking, bulkhead_max_concurrent=1)
    first = asyncio.create_task(h.client.get("/payments/1"))
    await asyncio.wait_for(arrived.wait(), timeout=5)
    assert h.metric("shop_bulkhead_in_use") == 1
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.get("/payments/2")
    assert raised.value.outcome == "rejected_bulkhead"
    assert not raised.value.outcome_unknown
    release.set()
    assert (await asyncio.wait_for(first, timeout=5)).status_code == 200
    assert h.metric("shop_bulkhead_rejected_total") == 1
    assert h.metric("shop_bulkhead_in_use") == 0


@pytest.mark.anyio
async def test_retry_budget_exhaustion_is_counted(unique_service: str) -> None:
    upstream = Upstream(503)
    h = Harness(
        unique_service,
        upstream,
        retry_max_attempts=3,
        retry_budget_ratio=0.0,
        retry_budget_min_retries=1,
        breaker_enabled=False,
    )
    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            await h.client.get("/payments/1")
    assert len(upstream.requests) == 3  # 2 + 1 retry from the budget
    assert h.metric("shop_retry_budget_exhausted_total") == 2
    assert h.metric("shop_outbound_retries_total") == 1


@pytest.mark.anyio
async def test_request_id_of_the_current_request_is_propagated(unique_service: str) -> None:
    upstream = Upstream(200)
    h = Harness(unique_service, upstream)
    await h.client.get("/payments/1")
    token = set_request_id("req-42")
    try:
        await h.client.get("/payments/1")
    finally:
        reset_request_id(token)
    assert "x-request-id" not in upstream.requests[0].headers
    assert upstream.requests[1].headers["x-request-id"] == "req-42"


@pytest.mark.anyio
async def test_cancelled_call_frees_its_bulkhead_slot_and_half_open_permit(
    unique_service: str,
) -> None:
    arrived = asyncio.Event()
    mode = {"answer": "fail"}

    async def upstream(request: httpx.Request) -> httpx.Response:
        if mode["answer"] == "hang":
            arrived.set()
            await asyncio.Event().wait()
        return httpx.Response(503 if mode["answer"] == "fail" else 200)

    h = Harness(unique_service, upstream, retry_max_attempts=1, breaker_min_calls=4)
    for _ in range(4):
        with pytest.raises(DependencyUnavailable):
            await h.client.get("/payments/1")
    h.clock.advance(5)
    mode["answer"] = "hang"
    task = asyncio.create_task(h.client.get("/payments/1"))  # takes the only trial permit
    await asyncio.wait_for(arrived.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert h.client.bulkhead.in_use == 0
    mode["answer"] = "ok"
    assert (await h.client.get("/payments/1")).status_code == 200  # the permit came back
    assert state_of(h.client) is BreakerState.CLOSED


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answers", "last_outcome"),
    [
        pytest.param(
            [httpx.ReadError("reset after sending"), httpx.ConnectError("refused")],
            "connect_error",
            id="reset-then-refused",
        ),
        pytest.param(
            [read_timeout(), httpx.ConnectTimeout("connect timed out")],
            "timeout",
            id="read-timeout-then-connect-timeout",
        ),
        pytest.param([503, httpx.ConnectError("refused")], "connect_error", id="5xx-then-refused"),
    ],
)
async def test_outcome_stays_unknown_once_any_attempt_may_have_reached_the_dependency(
    unique_service: str, answers: list[int | Exception], last_outcome: str
) -> None:
    upstream = Upstream(*answers)
    h = Harness(unique_service, upstream, breaker_min_calls=10)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.post("/payments", json={"amount_cents": 1}, idempotency_key="k-2")
    assert len(upstream.requests) == 3
    assert raised.value.outcome == last_outcome  # the last attempt's own outcome
    assert raised.value.outcome_unknown  # ... but the first may have charged


@pytest.mark.anyio
async def test_outcome_stays_unknown_when_the_breaker_rejects_the_retry(
    unique_service: str,
) -> None:
    upstream = Upstream(read_timeout())
    h = Harness(unique_service, upstream, retry_max_attempts=3, breaker_min_calls=1)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.post("/payments", json={"amount_cents": 1}, idempotency_key="k-3")
    assert len(upstream.requests) == 1
    assert raised.value.outcome == "rejected_breaker"
    assert raised.value.outcome_unknown


@pytest.mark.anyio
async def test_outcome_is_known_when_no_attempt_left(unique_service: str) -> None:
    upstream = Upstream(httpx.ConnectError("refused"))
    h = Harness(unique_service, upstream, breaker_min_calls=10)
    with pytest.raises(DependencyUnavailable) as raised:
        await h.client.post("/payments", json={"amount_cents": 1}, idempotency_key="k-4")
    assert len(upstream.requests) == 3
    assert not raised.value.outcome_unknown


@pytest.mark.anyio
async def test_a_request_after_an_unknown_one_starts_known_again(unique_service: str) -> None:
    upstream = Upstream(read_timeout(), httpx.ConnectError("refused"))
    h = Harness(unique_service, upstream, retry_max_attempts=1, breaker_min_calls=10)
    with pytest.raises(DependencyUnavailable) as first:
        await h.client.post("/payments", idempotency_key="k-5")
    with pytest.raises(DependencyUnavailable) as second:
        await h.client.post("/payments", idempotency_key="k-6")
    assert (first.value.outcome_unknown, second.value.outcome_unknown) == (True, False)


def test_sniffio_is_installed_so_httpcore_finds_it_once() -> None:
    """httpcore imports sniffio on every lock and event it creates (4 per request); when it is
    missing each try is a failed import, never cached (0.4 ms of CPU per call)."""
    assert importlib.util.find_spec("sniffio") is not None
