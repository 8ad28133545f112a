"""Retry policy: what may be retried, how long to wait (full jitter), and a retry budget.

Only safe methods (GET, HEAD, OPTIONS, PUT, DELETE) and requests carrying an `Idempotency-Key`
are retried, never a 4xx. Attempts are bounded, waits use exponential backoff with full
jitter (`uniform(0, min(max, base * 2**(n-1)))`), and a budget caps retries to a share of the
calls made over a sliding window, so a failing dependency is not hammered. The loop is
tenacity's `AsyncRetrying`; sleep, random and clock are injectable for tests.
"""

from __future__ import annotations

import asyncio
import random as _random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

RETRYABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def is_retryable_request(method: str, *, has_idempotency_key: bool) -> bool:
    """Whether a request may be sent again: a safe method, or one made idempotent by a key."""
    return has_idempotency_key or method.upper() in RETRYABLE_METHODS


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """`max_attempts` (3) counts the first one; backoff base (0.05 s) and cap (0.5 s)."""

    max_attempts: int = 3
    backoff_base: float = 0.05
    backoff_max: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("max_attempts must be >= 1 and backoff times >= 0")

    def backoff(self, retry_number: int, *, random: Callable[[], float] = _random.random) -> float:
        """Full-jitter wait before retry number `retry_number` (1 for the first retry)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (retry_number - 1))
        return ceiling * random()


class RetryBudget:
    """Allows retries while `retries <= ratio * requests + min_retries` over the last window.

    Counts live in `buckets` time slices so memory stays bounded at any request rate.
    """

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        window_seconds: float = 10.0,
        min_retries: int = 3,
        buckets: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ratio < 0 or window_seconds <= 0 or min_retries < 0 or buckets < 1:
            raise ValueError("ratio, min_retries >= 0; window_seconds > 0; buckets >= 1")
        self.ratio = ratio
        self.window_seconds = window_seconds
        self.min_retries = min_retries
        self._buckets = buckets
        self._slice = window_seconds / buckets
        self._clock = clock
        self._lock = threading.Lock()
        # (slice index, requests, retries), oldest first.
        self._slices: deque[list[int]] = deque()

    def record_request(self) -> None:
        with self._lock:
            self._current()[1] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        with self._lock:
            current = self._current()
            requests = sum(s[1] for s in self._slices)
            retries = sum(s[2] for s in self._slices)
            if retries + 1 > self.ratio * requests + self.min_retries:
                return False
            current[2] += 1
            return True

    def _current(self) -> list[int]:
        index = int(self._clock() // self._slice)
        oldest = index - self._buckets + 1
        while self._slices and self._slices[0][0] < oldest:
            self._slices.popleft()
        if not self._slices or self._slices[-1][0] != index:
            self._slices.append([index, 0, 0])
        return self._slices[-1]


Sleep = Callable[[float], Awaitable[None]]


def build_retrying(
    policy: RetryPolicy,
    *,
    should_retry: Callable[[BaseException], bool],
    budget: RetryBudget | None = None,
    sleep: Sleep = asyncio.sleep,
    random: Callable[[], float] = _random.random,
    on_retry: Callable[[], None] | None = None,
    on_budget_exhausted: Callable[[], None] | None = None,
) -> AsyncRetrying:
    """A tenacity loop: retry exceptions `should_retry` accepts, within attempts and budget.

    The last exception is re-raised as is (never tenacity's RetryError).
    """

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        if budget is not None and not budget.try_spend():
            if on_budget_exhausted is not None:
                on_budget_exhausted()
            return True
        return False

    def wait(state: RetryCallState) -> float:
        return policy.backoff(state.attempt_number, random=random)

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry()

    return AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
