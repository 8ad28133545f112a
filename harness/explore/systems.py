"""A process's system, kept from one cell to the next: starting the system is the dearest part
of a cell (about 10 s of a 30 s cell on a busy 2-core machine), and the chaos suite already
shares one system among experiments with the same settings.

A system is kept only after a passing cell: the oracle has just seen it recover (every request
succeeding after the heal) with its invariants holding, so the next cell starts from a healthy
system. A failed cell, an error or a change of topology or settings stops it, and the next
cell starts a fresh one. Every fault is undone between cells (`restore`). The kept system is
stopped when the process ends (a worker of the pool, or the command itself) or by `close`.
"""

from __future__ import annotations

import multiprocessing.util
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

__all__ = ["KeptSystem", "kept_system"]


class KeptSystem:
    """At most one running system, under the key of what it was started from."""

    def __init__(self) -> None:
        self._key: Hashable | None = None
        self._stack: ExitStack | None = None
        self._system: Any = None
        self.cells = 0  # cells run on the current system so far

    def get(self, key: Hashable, start: Callable[[], AbstractContextManager[Any]]) -> Any:
        """The kept system if it was started from `key` (its faults undone), else a fresh one
        from `start()`; `cells` says how many cells it ran before."""
        if self._stack is not None and self._key == key:
            try:
                self._system.restore()
            except Exception:  # a service that cannot come back: start afresh
                self.close()
            else:
                return self._system
        self.close()
        stack = ExitStack()
        system = stack.enter_context(start())
        self._key, self._stack, self._system, self.cells = key, stack, system, 0
        return system

    def ran_cell(self, *, keep: bool) -> None:
        """One more cell ran on the system; stop it unless `keep`."""
        self.cells += 1
        if not keep:
            self.close()

    def close(self) -> None:
        stack, self._stack, self._system, self._key = self._stack, None, None, None
        if stack is not None:
            stack.close()


_KEPT = KeptSystem()
# Run when the process exits, also in a pool's worker (which skips atexit handlers).
multiprocessing.util.Finalize(_KEPT, _KEPT.close, exitpriority=10)


def kept_system() -> KeptSystem:
    """This process's kept system."""
    return _KEPT
