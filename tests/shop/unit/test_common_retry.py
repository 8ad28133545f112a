"""Retry policy: what is retried, full-jitter backoff, bounded attempts, the retry budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from shop.common.retry import RetryBudget, RetryPolicy, build_retrying, is_retryable_request
from shop_fakes import FakeClock


class Flaky(Exception):
    """A failure the tests declare retryable."""


class Fatal(Exception):
    """A failure the tests declare final."""


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "get"])
def test_safe_methods_are_retryable(method: str) -> None:
    assert is_retryable_request(method, has_idempotency_key=False)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unsafe_methods_are_not_retryable_without_a_key(method: str) -> None:
    assert not is_retryable_request(method, has_idempotency_key=False)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unsafe_methods_with_an_idempotency_key_are_retryable(method: str) -> None:
    assert is_retryable_request(method, has_idempotency_key=True)


def test_backoff_is_full_jitter_below_an_exponential_ceiling() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=0.1, backoff_max=10.0)
    assert [policy.backoff(n, random=lambda: 1.0) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]
    assert policy.backoff(3, random=lambda: 0.5) == pytest.approx(0.2)
    assert policy.backoff(3, random=lambda: 0.0) == 0.0


def test_backoff_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, backoff_base=0.05, backoff_max=0.5)
    assert policy.backoff(12, random=lambda: 0.999) < 0.5


def test_policy_rejects_invalid_settings() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_budget_allows_minimum_retries_on_a_quiet_service() -> None:
    budget = RetryBudget(ratio=0.2, window_seconds=10, min_retries=3, clock=FakeClock())
    budget.record_request()
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]


def test_budget_grows_with_the_share_of_requests() -> None:
    budget = RetryBudget(ratio=0.2, window_seconds=10, min_retries=0, clock=FakeClock())
    for _ in range(10):
        budget.record_request()
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]  # 20 % of 10


def test_budget_recovers_once_spent_retries_leave_the_window() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, window_seconds=10, min_retries=1, clock=clock)
    assert budget.try_spend()
    assert not budget.try_spend()
    clock.advance(5)
    assert not budget.try_spend()
    clock.advance(5)
    assert budget.try_spend()


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.retries = 0
        self.exhausted = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def on_retry(self) -> None:
        self.retries += 1

    def on_budget_exhausted(self) -> None:
        self.exhausted += 1


def failing_then(
    results: list[BaseException | str],
) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        outcome = results[len(calls) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return calls, attempt


@pytest.mark.anyio
async def test_retry_loop_retries_until_success_with_jittered_sleeps() -> None:
    recorder = Recorder()
    calls, attempt = failing_then([Flaky(), Flaky(), "ok"])
    retrying = build_retrying(
        RetryPolicy(max_attempts=3, backoff_base=0.1, backoff_max=1.0),
        should_retry=lambda exc: isinstance(exc, Flaky),
        sleep=recorder.sleep,
        random=lambda: 0.5,
        on_retry=recorder.on_retry,
    )
    assert await retrying(attempt) == "ok"
    assert len(calls) == 3
    assert recorder.sleeps == [pytest.approx(0.05), pytest.approx(0.1)]
    assert recorder.retries == 2


@pytest.mark.anyio
async def test_retry_loop_stops_at_max_attempts_and_reraises_the_last_error() -> None:
    recorder = Recorder()
    last = Flaky("third")
    calls, attempt = failing_then([Flaky(), Flaky(), last, "never"])
    retrying = build_retrying(
        RetryPolicy(max_attempts=3),
        should_retry=lambda exc: isinstance(exc, Flaky),
        sleep=recorder.sleep,
    )
    with pytest.raises(Flaky) as raised:
        await retrying(attempt)
    assert raised.value is last
    assert len(calls) == 3


@pytest.mark.anyio
async def test_retry_loop_does_not_retry_errors_it_is_told_are_final() -> None:
    recorder = Recorder()
    calls, attempt = failing_then([Fatal(), "never"])
    retrying = build_retrying(
        RetryPolicy(max_attempts=3),
        should_retry=lambda exc: isinstance(exc, Flaky),
        sleep=recorder.sleep,
    )
    with pytest.raises(Fatal):
        await retrying(attempt)
    assert len(calls) == 1
    assert recorder.sleeps == []


@pytest.mark.anyio
async def test_retry_loop_stops_when_the_budget_is_spent() -> None:
    recorder = Recorder()
    budget = RetryBudget(ratio=0.0, window_seconds=10, min_retries=1, clock=FakeClock())
    calls, attempt = failing_then([Flaky(), Flaky(), "never"])
    retrying = build_retrying(
        RetryPolicy(max_attempts=5),
        should_retry=lambda exc: isinstance(exc, Flaky),
        budget=budget,
        sleep=recorder.sleep,
        on_retry=recorder.on_retry,
        on_budget_exhausted=recorder.on_budget_exhausted,
    )
    with pytest.raises(Flaky):
        await retrying(attempt)
    assert len(calls) == 2
    assert (recorder.retries, recorder.exhausted) == (1, 1)


@pytest.mark.anyio
async def test_last_attempt_does_not_spend_the_budget() -> None:
    budget = RetryBudget(ratio=0.0, window_seconds=10, min_retries=5, clock=FakeClock())
    _, attempt = failing_then([Flaky(), Flaky()])
    retrying = build_retrying(
        RetryPolicy(max_attempts=2),
        should_retry=lambda exc: isinstance(exc, Flaky),
        budget=budget,
        sleep=Recorder().sleep,
    )
    with pytest.raises(Flaky):
        await retrying(attempt)
    assert [budget.try_spend() for _ in range(5)] == [True, True, True, True, False]
