"""CircuitBreaker: transitions driven by outcomes and a fake clock (no sleeps)."""

from __future__ import annotations

import pytest
from shop.common.breaker import BreakerOpen, BreakerState, CircuitBreaker
from shop_fakes import FakeClock


def make_breaker(clock: FakeClock, **overrides: object) -> CircuitBreaker:
    options: dict[str, object] = {
        "failure_rate_threshold": 0.5,
        "window_size": 10,
        "min_calls": 4,
        "slow_call_seconds": 1.0,
        "slow_call_rate_threshold": 0.8,
        "open_seconds": 5.0,
        "half_open_calls": 2,
    }
    options.update(overrides)
    return CircuitBreaker(clock=clock, **options)  # type: ignore[arg-type]


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The state read afresh (a call, so mypy does not narrow it between reads)."""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int = 1, duration: float = 0.01) -> None:
    for _ in range(times):
        breaker.acquire().failure(duration)


def succeed(breaker: CircuitBreaker, times: int = 1, duration: float = 0.01) -> None:
    for _ in range(times):
        breaker.acquire().success(duration)


def trip(breaker: CircuitBreaker) -> None:
    fail(breaker, breaker.min_calls)
    assert state_of(breaker) is BreakerState.OPEN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_breaker_starts_closed_and_allows_calls(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    assert state_of(breaker) is BreakerState.CLOSED
    succeed(breaker, 3)
    assert state_of(breaker) is BreakerState.CLOSED


def test_breaker_does_not_trip_before_minimum_calls(clock: FakeClock) -> None:
    breaker = make_breaker(clock, min_calls=4)
    fail(breaker, 3)
    assert state_of(breaker) is BreakerState.CLOSED


def test_breaker_opens_after_failure_threshold(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    succeed(breaker, 2)
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.CLOSED  # 1/3, under min calls anyway
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN  # 2/4 = 0.5 reaches the threshold


def test_breaker_stays_closed_under_failure_threshold(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    for _ in range(5):
        succeed(breaker, 2)
        fail(breaker, 1)
    assert state_of(breaker) is BreakerState.CLOSED  # 1/3 < 0.5


def test_breaker_window_forgets_calls_older_than_its_size(clock: FakeClock) -> None:
    breaker = make_breaker(clock, window_size=4, min_calls=4)
    succeed(breaker, 2)
    fail(breaker, 1)  # window [S S F]
    succeed(breaker, 3)  # window [S S S S]: the failure slid out
    fail(breaker, 1)  # [S S S F] = 0.25
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 1)  # [S S F F] = 0.5
    assert state_of(breaker) is BreakerState.OPEN


def test_open_breaker_refuses_calls(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    trip(breaker)
    with pytest.raises(BreakerOpen) as refused:
        breaker.acquire()
    assert refused.value.state is BreakerState.OPEN


def test_breaker_turns_half_open_after_open_duration(clock: FakeClock) -> None:
    breaker = make_breaker(clock, open_seconds=5.0)
    trip(breaker)
    clock.advance(4.99)
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(0.01)
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_half_open_breaker_permits_only_the_trial_calls(clock: FakeClock) -> None:
    breaker = make_breaker(clock, half_open_calls=2)
    trip(breaker)
    clock.advance(5)
    first, second = breaker.acquire(), breaker.acquire()
    with pytest.raises(BreakerOpen) as refused:
        breaker.acquire()
    assert refused.value.state is BreakerState.HALF_OPEN
    first.success(0.01)
    second.success(0.01)


def test_half_open_breaker_closes_when_trial_calls_succeed(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    trip(breaker)
    clock.advance(5)
    succeed(breaker, 1)
    assert state_of(breaker) is BreakerState.HALF_OPEN  # waits for every trial call
    succeed(breaker, 1)
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 3)
    assert state_of(breaker) is BreakerState.CLOSED  # the window started afresh


def test_half_open_breaker_reopens_when_trial_calls_fail(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    trip(breaker)
    clock.advance(5)
    succeed(breaker, 1)
    fail(breaker, 1)  # 1/2 reaches the 0.5 threshold
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(4.9)
    assert state_of(breaker) is BreakerState.OPEN  # the open timer restarted
    clock.advance(0.1)
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_released_half_open_permit_lets_another_trial_call_in(clock: FakeClock) -> None:
    breaker = make_breaker(clock, half_open_calls=1)
    trip(breaker)
    clock.advance(5)
    breaker.acquire().release()
    succeed(breaker, 1)
    assert state_of(breaker) is BreakerState.CLOSED


def test_breaker_opens_on_slow_calls_that_succeed(clock: FakeClock) -> None:
    breaker = make_breaker(clock, slow_call_seconds=1.0, slow_call_rate_threshold=0.75)
    succeed(breaker, 1, duration=0.1)
    succeed(breaker, 2, duration=1.0)
    assert state_of(breaker) is BreakerState.CLOSED
    succeed(breaker, 1, duration=2.0)  # 3 slow of 4 = 0.75
    assert state_of(breaker) is BreakerState.OPEN


def test_outcomes_from_before_a_transition_are_ignored(clock: FakeClock) -> None:
    breaker = make_breaker(clock, half_open_calls=1)
    late = breaker.acquire()  # started while closed
    trip(breaker)
    clock.advance(5)
    trial = breaker.acquire()
    late.failure(0.01)  # must not decide the half-open trial
    assert state_of(breaker) is BreakerState.HALF_OPEN
    trial.success(0.01)
    assert state_of(breaker) is BreakerState.CLOSED


def test_a_permit_reports_only_once(clock: FakeClock) -> None:
    breaker = make_breaker(clock, min_calls=2, window_size=2)
    permit = breaker.acquire()
    permit.failure(0.01)
    permit.failure(0.01)
    permit.success(0.01)
    assert state_of(breaker) is BreakerState.CLOSED
    succeed(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN  # [F S] = 0.5: the repeats were not counted


def test_disabled_breaker_always_allows_and_never_changes_state(clock: FakeClock) -> None:
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = make_breaker(
        clock, enabled=False, on_state_change=lambda old, new: changes.append((old, new))
    )
    fail(breaker, 50)
    assert state_of(breaker) is BreakerState.CLOSED
    assert changes == []


def test_state_change_callback_sees_every_transition(clock: FakeClock) -> None:
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = make_breaker(clock, on_state_change=lambda old, new: changes.append((old, new)))
    trip(breaker)
    clock.advance(5)
    fail(breaker, 2)
    clock.advance(5)
    succeed(breaker, 2)
    closed, open_, half = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
    assert changes == [(closed, open_), (open_, half), (half, open_), (open_, half), (half, closed)]


@pytest.mark.parametrize(
    "options",
    [
        {"failure_rate_threshold": 0},
        {"failure_rate_threshold": 1.5},
        {"slow_call_rate_threshold": 0},
        {"window_size": 0},
        {"min_calls": 0},
        {"half_open_calls": 0},
        {"open_seconds": -1},
        {"slow_call_seconds": 0},
    ],
)
def test_breaker_rejects_invalid_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**options)  # type: ignore[arg-type]
