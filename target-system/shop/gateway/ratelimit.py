"""A token bucket per client: `rate` tokens per second refill a bucket of `burst` tokens."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Keyword-only: `rate` (tokens/s; 0 = no limit), `burst` (bucket size), `clock`
    (time.monotonic; injectable so tests do not sleep)."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        # client -> (tokens, last refill time)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, client: str) -> float:
        """Take a token for `client`: 0.0 when allowed, else the seconds until one is due."""
        if self.rate == 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate
