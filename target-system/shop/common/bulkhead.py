"""A bulkhead: at most `max_concurrent` calls in flight; the next one is refused at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class BulkheadFull(Exception):
    def __init__(self, max_concurrent: int) -> None:
        super().__init__(f"bulkhead full ({max_concurrent} calls in flight)")
        self.max_concurrent = max_concurrent


class Bulkhead:
    """Counts calls in flight. `on_change(in_use)` is called after every acquire and release."""

    def __init__(
        self, max_concurrent: int, *, on_change: Callable[[int], None] | None = None
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be >= 1")
        self.max_concurrent = max_concurrent
        self._in_use = 0
        self._lock = threading.Lock()
        self._on_change = on_change

    @property
    def in_use(self) -> int:
        return self._in_use

    def try_acquire(self) -> bool:
        with self._lock:
            if self._in_use >= self.max_concurrent:
                return False
            self._in_use += 1
            in_use = self._in_use
        self._changed(in_use)
        return True

    def release(self) -> None:
        with self._lock:
            if self._in_use == 0:
                raise RuntimeError("bulkhead released more often than acquired")
            self._in_use -= 1
            in_use = self._in_use
        self._changed(in_use)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block, or raise `BulkheadFull` without waiting."""
        if not self.try_acquire():
            raise BulkheadFull(self.max_concurrent)
        try:
            yield
        finally:
            self.release()

    def _changed(self, in_use: int) -> None:
        if self._on_change is not None:
            self._on_change(in_use)
