"""What a person watching a run sees: a rich Live panel on a terminal (phase, faults in
force, breaker states, traffic, assertions as they resolve), plain lines elsewhere (CI
logs), nothing in tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness.assertions import Check
from harness.chaos.result import RunEvent
from harness.faults import TimelineEvent

__all__ = [
    "EventLog",
    "LiveState",
    "LiveView",
    "NullReporter",
    "PlainReporter",
    "Reporter",
    "make_reporter",
]

_STATUS_STYLE = {"passed": "green", "failed": "bold red", "pending": "yellow", "skipped": "dim"}
_BREAKER_STYLE = {"closed": "green", "open": "bold red", "half_open": "yellow"}


@dataclass(slots=True)
class LiveState:
    """A snapshot of a run for display."""

    title: str
    phase: str = "starting"
    elapsed: float = 0.0
    active_faults: Sequence[str] = ()
    breakers: Mapping[str, str] = field(default_factory=dict)
    traffic: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    assertions: Sequence[Check] = ()
    recent: Sequence[RunEvent] = ()


class Reporter(Protocol):
    def event(self, event: RunEvent) -> None: ...

    def update(self, state: LiveState) -> None: ...

    def close(self) -> None: ...


class EventLog:
    """The run's own timeline: each event is kept (for the journal) and shown at once.

    `origin` gives the method's start once it is known; events carry their offset from it.
    """

    def __init__(
        self, events: list[RunEvent], reporter: Reporter, origin: Callable[[], float | None]
    ) -> None:
        self.events = events
        self.reporter = reporter
        self.origin = origin

    def add(self, kind: str, message: str, *, ok: bool = True, at: float | None = None) -> None:
        at = time.time() if at is None else at
        origin = self.origin()
        event = RunEvent(
            at=at,
            offset=None if origin is None else round(at - origin, 3),
            kind=kind,
            message=message,
            ok=ok,
        )
        self.events.append(event)
        self.reporter.event(event)

    def fault(self, event: TimelineEvent) -> None:
        """A fault the executor applied, removed or rolled back (or failed to)."""
        verb = {"apply": "applied", "remove": "removed", "rollback": "rolled back"}[event.action]
        message = f"{verb} {event.description}" + (f": {event.error}" if event.error else "")
        self.add("fault", message, ok=event.ok, at=event.at)


class NullReporter:
    """Shows nothing (pytest, library use)."""

    def event(self, event: RunEvent) -> None:
        return None

    def update(self, state: LiveState) -> None:
        return None

    def close(self) -> None:
        return None


class PlainReporter:
    """One line per event: what CI logs and non-terminals get."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lock = threading.Lock()

    def event(self, event: RunEvent) -> None:
        offset = f"{event.offset:+7.2f}s" if event.offset is not None else " " * 8
        style = "" if event.ok else "red"
        with self._lock:
            self._console.print(
                f"{offset} {event.kind:<10} {event.message}",
                style=style,
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    def update(self, state: LiveState) -> None:
        return None

    def close(self) -> None:
        return None


class LiveView:
    """A rich Live panel refreshed a few times a second."""

    def __init__(self, console: Console, *, title: str) -> None:
        self._state = LiveState(title=title)
        self._lock = threading.Lock()
        self._live = Live(self._render(), console=console, refresh_per_second=4, transient=False)
        self._live.start()

    def event(self, event: RunEvent) -> None:
        return None  # events reach the panel through `recent` in the next update

    def update(self, state: LiveState) -> None:
        with self._lock:
            self._state = state
            self._live.update(self._render())

    def close(self) -> None:
        with self._lock:
            self._live.update(self._render())
            self._live.stop()

    def _render(self) -> Panel:
        state = self._state
        header = Text.assemble(
            (f"{state.phase}", "bold"), f"   t={state.elapsed:5.1f}s   ",
            ("faults: ", "dim"), ", ".join(state.active_faults) or "none",
        )  # fmt: skip
        parts: list[Table | Text] = [header]
        if state.breakers:
            breakers = Text("breakers: ", style="dim")
            for edge, name in sorted(state.breakers.items()):
                breakers.append(f"{edge}=", style="")
                breakers.append(name, style=_BREAKER_STYLE.get(name, ""))
                breakers.append("  ")
            parts.append(breakers)
        if state.traffic:
            traffic = Text("traffic: ", style="dim")
            for operation, counts in sorted(state.traffic.items()):
                traffic.append(f"{operation} ")
                traffic.append(f"{counts.get('ok', 0)} ok", style="green")
                traffic.append(" / ")
                traffic.append(f"{counts.get('error', 0)} err  ", style="red")
            parts.append(traffic)
        table = Table(show_header=True, header_style="bold", expand=True, box=None)
        table.add_column("assertion", ratio=2)
        table.add_column("status", width=8)
        table.add_column("evidence", ratio=3)
        for assertion in state.assertions:
            table.add_row(
                assertion.name,
                Text(assertion.status, style=_STATUS_STYLE.get(assertion.status, "")),
                assertion.summary,
            )
        parts.append(table)
        for event in list(state.recent)[-6:]:
            offset = f"{event.offset:+6.1f}s" if event.offset is not None else ""
            parts.append(
                Text(f"{offset} {event.kind}: {event.message}", style="dim" if event.ok else "red")
            )
        return Panel(Group(*parts), title=state.title, border_style="cyan")


def make_reporter(console: Console | None, *, title: str, live: bool | None = None) -> Reporter:
    """Live panel on a terminal, plain lines otherwise, nothing without a console."""
    if console is None:
        return NullReporter()
    use_live = console.is_terminal if live is None else live
    return LiveView(console, title=title) if use_live else PlainReporter(console)


def elapsed_since(start: float | None) -> float:
    return 0.0 if start is None else max(0.0, time.time() - start)
