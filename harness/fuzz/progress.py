"""Progress while a fuzz pass runs, so a long pass is never silent.

On a terminal: one live status line (rich) with the operation being fuzzed and the
counts so far. Elsewhere (CI logs): a plain line each time an operation is first fuzzed
and every `every_cases` cases, with a time stamp and nothing after it (no rich source
suffix, no markup, no wrapping).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.status import Status

__all__ = ["FuzzProgress", "PassCounts", "fuzz_progress"]


@dataclass
class PassCounts:
    """What a pass has done so far (the engine's figures when a scenario finishes)."""

    operations_total: int
    cases: int
    failures: int


class FuzzProgress:
    """Called once per finished scenario with its label and the counts so far."""

    def __init__(self, console: Console, title: str, *, every_cases: int = 100) -> None:
        self.console = console
        self.title = title
        self.every_cases = every_cases
        self.started = time.monotonic()
        self._status: Status | None = None
        self._next_cases = every_cases
        self._seen: set[str] = set()

    def __call__(self, label: str, counts: PassCounts) -> None:
        first_time = label not in self._seen
        self._seen.add(label)
        line = self._describe(label, counts)
        if self._status is not None:
            self._status.update(f"{self.title}: {line}")
            return
        if first_time or counts.cases >= self._next_cases:
            while counts.cases >= self._next_cases:
                self._next_cases += self.every_cases
            stamp = time.strftime("%H:%M:%S")
            self.console.print(
                f"[{stamp}] {self.title}: {line}", markup=False, highlight=False, soft_wrap=True
            )

    def _describe(self, label: str, counts: PassCounts) -> str:
        seen = sum(map(_is_operation, self._seen))  # not "stateful_testing scenario"
        total = f"/{counts.operations_total}" if counts.operations_total else ""
        return (
            f"{label} ({seen}{total} operations, {counts.cases} cases, "
            f"{counts.failures} failures, {time.monotonic() - self.started:.1f}s)"
        )


def _is_operation(label: str) -> bool:
    """ "GET /users/{id}", not a scenario's label."""
    method, _, path = label.partition(" ")
    return method.isupper() and path.startswith("/")


@contextmanager
def fuzz_progress(
    console: Console, title: str, *, every_cases: int = 100
) -> Iterator[FuzzProgress]:
    """A `FuzzProgress` with a live status line on a terminal (plain lines elsewhere)."""
    progress = FuzzProgress(console, title, every_cases=every_cases)
    if not console.is_terminal:
        yield progress
        return
    with console.status(title) as status:
        progress._status = status
        yield progress
