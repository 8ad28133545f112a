"""Progress while a load run goes: elapsed time, users, throughput, errors, faults, breakers.

On a terminal it is a live rich progress bar; elsewhere (CI logs) one line every few
seconds, so a long run is never silent.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from harness.load.results import HistoryTick, percentile
from harness.observe.timeline import Timeline

__all__ = ["HistoryTail", "LoadProgress"]


class HistoryTail:
    """Reads the HistoryTicks Locust appends to its history file, as they arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = ""

    def read(self) -> list[HistoryTick]:
        if not self.path.exists():
            return []
        with self.path.open("r", encoding="utf-8") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
            self._offset = handle.tell()
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()  # an incomplete last line waits for the next read
        return [HistoryTick.model_validate_json(line) for line in lines if line.strip()]


class LoadProgress:
    """Shows the run's state; call `update()` about twice a second."""

    def __init__(
        self, *, console: Console, total_s: float, title: str, text_every_s: float = 5.0
    ) -> None:
        self.console = console
        self.total_s = total_s
        self.title = title
        self.started_mono: float | None = None
        self._text_every = text_every_s
        self._last_text = 0.0
        self._recent: list[HistoryTick] = []
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> LoadProgress:
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]{task.fields[title]}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "starting Locust", total=self.total_s, title=self.title
            )
        else:
            self.console.log(f"{self.title}: starting Locust")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def load_started(self) -> None:
        self.started_mono = time.monotonic()

    def update(self, ticks: list[HistoryTick], *, faults: list[str], timeline: Timeline) -> None:
        self._recent = (self._recent + ticks)[-5:]
        elapsed = 0.0 if self.started_mono is None else time.monotonic() - self.started_mono
        status = self._status(faults, timeline)
        if self._progress is not None and self._task is not None:
            completed = min(elapsed, self.total_s)
            self._progress.update(self._task, completed=completed, description=status)
        elif time.monotonic() - self._last_text >= self._text_every:
            self._last_text = time.monotonic()
            self.console.log(f"{self.title}: {elapsed:5.0f}s/{self.total_s:.0f}s {status}")

    def _status(self, faults: list[str], timeline: Timeline) -> str:
        if self.started_mono is None:
            return "waiting for Locust to start"
        parts = []
        if self._recent:
            last = self._recent[-1]
            window = [t.total() for t in self._recent[1:]] if len(self._recent) > 1 else []
            span = self._recent[-1].t - self._recent[0].t
            requests = sum(e.requests for e in window)
            failures = sum(e.failures for e in window)
            histogram: dict[int, int] = {}
            for entry in window:
                for ms, count in entry.histogram.items():
                    histogram[ms] = histogram.get(ms, 0) + count
            p95 = percentile(histogram, 0.95)
            rps = requests / span if span > 0 else 0.0
            parts.append(f"users {last.users}")
            parts.append(f"{rps:.0f} req/s")
            parts.append(f"fail {failures / requests:.1%}" if requests else "fail -")
            parts.append(f"p95 {p95:.0f} ms" if p95 is not None else "p95 -")
        if faults:
            parts.append("faults: " + "; ".join(faults))
        opened = [
            f"{edge} {state}"
            for edge, state in timeline.latest_breaker_states().items()
            if state != "closed"
        ]
        if opened:
            parts.append("breakers: " + ", ".join(opened))
        return " | ".join(parts)
