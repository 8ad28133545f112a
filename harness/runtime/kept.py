"""A process's system, kept from one unit of work to the next (an explore cell, an experiment
of a parallel chaos suite): starting a system is the dearest part of a short experiment
(8-19 s of a 20 s one on a busy 2-core machine), and the chaos suite run one at a time
already shares one system among experiments with the same settings.

A system is kept only after a passing unit: it has just been seen to recover with its
invariants holding, so the next unit starts from a healthy system. A failed unit, an error or
a change of topology or settings stops it, and the next unit starts a fresh one. Every fault
is undone between units (`restore`). The kept system is stopped when the process ends (a
worker of the pool, or the command itself) or by `close`.
"""

from __future__ import annotations

import multiprocessing.util
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

__all__ = ["STARTS", "KeptSystem", "kept_system"]

# Tries to start a system: workers starting systems at once pick free ports at the same
# moment, and one may take another's port between its pick and its bind.
STARTS = 2


class KeptSystem:
    """At most one running system, under the key of what it was started from."""

    def __init__(self) -> None:
        self._key: Hashable | None = None
        self._stack: ExitStack | None = None
        self._system: Any = None
        self.cells = 0  # units run on the current system so far

    def get(
        self,
        key: Hashable,
        start: Callable[[], AbstractContextManager[Any]],
        *,
        tries: int = STARTS,
    ) -> Any:
        """The kept system if it was started from `key` (its faults undone), else a fresh one
        from `start()`, tried up to `tries` times on a `StartupError` (systems starting at once
        in other workers may take a port between its pick and its bind); `cells` says how many
        units it ran before."""
        from harness.runtime.errors import StartupError

        if self._stack is not None and self._key == key:
            try:
                self._system.restore()
            except Exception:  # a service that cannot come back: start afresh
                self.close()
            else:
                return self._system
        self.close()
        for attempt in range(1, tries + 1):
            stack = ExitStack()
            try:
                system = stack.enter_context(start())
            except StartupError:
                if attempt == tries:
                    raise
            else:
                self._key, self._stack, self._system, self.cells = key, stack, system, 0
                return system
        raise AssertionError("unreachable")

    def ran_cell(self, *, keep: bool) -> None:
        """One more unit ran on the system; stop it unless `keep`."""
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
