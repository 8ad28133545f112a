"""A circuit breaker: closed / open / half-open over a count-based sliding window.

Closed: every call is allowed; outcomes go into a window of the last `window_size` calls.
Once it holds at least `min_calls`, the breaker opens when the failure rate or the slow-call
rate reaches its threshold. Open: calls are refused until `open_seconds` have passed, then it
is half-open. Half-open: `half_open_calls` trial calls are allowed; when they have all
reported, the breaker closes if their rates are under the thresholds, else opens again.

Time comes from an injectable clock so tests never sleep. Each call takes a `CallPermit` and
reports through it exactly once; reports from permits issued before the last transition are
ignored, so a slow call started while closed cannot decide a half-open trial.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateChangeCallback = Callable[[BreakerState, BreakerState], None]


class BreakerOpen(Exception):
    """Raised by `CircuitBreaker.acquire` when the call is refused."""

    def __init__(self, state: BreakerState) -> None:
        super().__init__(f"circuit breaker {state.value}")
        self.state = state


@dataclass(frozen=True, slots=True)
class _Outcome:
    failed: bool
    slow: bool


@dataclass(eq=False)
class CallPermit:
    """Permission for one call; report it with `success`, `failure` or `release` (once)."""

    _breaker: CircuitBreaker
    _epoch: int
    _done: bool = field(default=False)

    def success(self, duration: float) -> None:
        self._report(failed=False, duration=duration)

    def failure(self, duration: float) -> None:
        self._report(failed=True, duration=duration)

    def release(self) -> None:
        """Give the permit back without an outcome (the call was cancelled)."""
        if not self._done:
            self._done = True
            self._breaker._release(self._epoch)

    def _report(self, *, failed: bool, duration: float) -> None:
        if not self._done:
            self._done = True
            self._breaker._record(self._epoch, failed=failed, duration=duration)


class CircuitBreaker:
    """Thread-safe circuit breaker. All parameters are keyword-only; defaults match the README.

    - `failure_rate_threshold` (0.5): failure share that opens the breaker.
    - `window_size` (20) / `min_calls` (5): calls remembered, and needed before it can trip.
    - `slow_call_seconds` (0.8) / `slow_call_rate_threshold` (0.8): a call at least this long is
      slow; this share of slow calls opens the breaker.
    - `open_seconds` (5.0): time open before half-open.
    - `half_open_calls` (2): trial calls permitted while half-open.
    - `enabled` (True): False makes the breaker always allow and never change state.
    - `clock` (time.monotonic): seconds, injectable for tests.
    - `on_state_change`: called with (old, new) on every transition, under no lock.
    """

    def __init__(
        self,
        *,
        failure_rate_threshold: float = 0.5,
        window_size: int = 20,
        min_calls: int = 5,
        slow_call_seconds: float = 0.8,
        slow_call_rate_threshold: float = 0.8,
        open_seconds: float = 5.0,
        half_open_calls: int = 2,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_state_change: StateChangeCallback | None = None,
    ) -> None:
        if not 0 < failure_rate_threshold <= 1 or not 0 < slow_call_rate_threshold <= 1:
            raise ValueError("rate thresholds must be in (0, 1]")
        if window_size < 1 or min_calls < 1 or half_open_calls < 1:
            raise ValueError("window_size, min_calls and half_open_calls must be >= 1")
        if open_seconds < 0 or slow_call_seconds <= 0:
            raise ValueError("open_seconds must be >= 0 and slow_call_seconds > 0")
        self.failure_rate_threshold = failure_rate_threshold
        self.window_size = window_size
        self.min_calls = min(min_calls, window_size)
        self.slow_call_seconds = slow_call_seconds
        self.slow_call_rate_threshold = slow_call_rate_threshold
        self.open_seconds = open_seconds
        self.half_open_calls = half_open_calls
        self.enabled = enabled
        self._clock = clock
        self._on_state_change = on_state_change
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._epoch = 0
        self._opened_at = 0.0
        self._window: deque[_Outcome] = deque(maxlen=window_size)
        self._trial_permits = 0  # half-open permits handed out
        self._trial_outcomes: list[_Outcome] = []

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose time is up reads as half-open)."""
        with self._lock:
            change = self._advance_clock()
        self._notify(change)
        return self._state

    def acquire(self) -> CallPermit:
        """A permit for one call, or `BreakerOpen` when the breaker refuses it."""
        if not self.enabled:
            return CallPermit(self, -1)
        with self._lock:
            change = self._advance_clock()
            state = self._state
            refused = state is BreakerState.OPEN or (
                state is BreakerState.HALF_OPEN and self._trial_permits >= self.half_open_calls
            )
            if not refused and state is BreakerState.HALF_OPEN:
                self._trial_permits += 1
            epoch = self._epoch
        self._notify(change)
        if refused:
            raise BreakerOpen(state)
        return CallPermit(self, epoch)

    # -- internals (called by CallPermit) --------------------------------------------------

    def _record(self, epoch: int, *, failed: bool, duration: float) -> None:
        outcome = _Outcome(failed=failed, slow=duration >= self.slow_call_seconds)
        with self._lock:
            if epoch != self._epoch or not self.enabled:
                return
            if self._state is BreakerState.CLOSED:
                self._window.append(outcome)
                change = self._trip_if_needed(list(self._window), self.min_calls)
            elif self._state is BreakerState.HALF_OPEN:
                self._trial_outcomes.append(outcome)
                change = self._settle_trial()
            else:
                change = None
        self._notify(change)

    def _release(self, epoch: int) -> None:
        with self._lock:
            if epoch == self._epoch and self._state is BreakerState.HALF_OPEN:
                self._trial_permits -= 1

    def _trip_if_needed(
        self, outcomes: list[_Outcome], needed: int
    ) -> tuple[BreakerState, BreakerState] | None:
        if len(outcomes) < needed:
            return None
        if self._over_threshold(outcomes):
            return self._transition(BreakerState.OPEN)
        return None

    def _settle_trial(self) -> tuple[BreakerState, BreakerState] | None:
        if len(self._trial_outcomes) < self.half_open_calls:
            return None
        target = (
            BreakerState.OPEN if self._over_threshold(self._trial_outcomes) else BreakerState.CLOSED
        )
        return self._transition(target)

    def _over_threshold(self, outcomes: list[_Outcome]) -> bool:
        total = len(outcomes)
        failure_rate = sum(o.failed for o in outcomes) / total
        slow_rate = sum(o.slow for o in outcomes) / total
        return (
            failure_rate >= self.failure_rate_threshold
            or slow_rate >= self.slow_call_rate_threshold
        )

    def _advance_clock(self) -> tuple[BreakerState, BreakerState] | None:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.open_seconds
        ):
            return self._transition(BreakerState.HALF_OPEN)
        return None

    def _transition(self, target: BreakerState) -> tuple[BreakerState, BreakerState]:
        """Switch state (lock held); every transition starts a fresh epoch and counters."""
        previous = self._state
        self._state = target
        self._epoch += 1
        self._trial_permits = 0
        self._trial_outcomes = []
        if target is BreakerState.OPEN:
            self._opened_at = self._clock()
        if target is BreakerState.CLOSED:
            self._window.clear()
        return previous, target

    def _notify(self, change: tuple[BreakerState, BreakerState] | None) -> None:
        if change is not None and self._on_state_change is not None:
            self._on_state_change(*change)
