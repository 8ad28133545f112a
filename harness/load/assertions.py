"""Behaviour assertions: what the breakers did while faults were on, read from the timeline.

Fault windows come from the fault executor's recorded timeline (when each fault was really
applied and removed), not from the schedule's offsets, so a slow apply does not shift the
window the assertion looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.faults import TimelineEvent
from harness.load.profile import (
    Assertion,
    BreakerClosed,
    BreakerOpened,
    BreakerStayedClosed,
    LoadProfile,
)
from harness.load.verdict import Check
from harness.observe.timeline import BREAKER_STATE_NAMES, Point, Timeline

__all__ = ["FaultWindow", "evaluate_assertions", "fault_windows"]

CLOSED = 0


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """When one fault of the schedule was in force (wall-clock times)."""

    index: int
    description: str
    start: float | None
    end: float | None
    error: str | None = None

    @property
    def applied(self) -> bool:
        return self.start is not None


def fault_windows(
    events: Sequence[TimelineEvent], descriptions: Sequence[str], *, run_end: float
) -> list[FaultWindow]:
    """One window per fault: from its `apply` to its `remove` or `rollback` (or `run_end`)."""
    windows = []
    for index, description in enumerate(descriptions):
        mine = [e for e in events if e.fault_index == index]
        applied = next((e for e in mine if e.action == "apply" and e.ok), None)
        failed = next((e for e in mine if e.action == "apply" and not e.ok), None)
        removed = next((e for e in mine if e.action in ("remove", "rollback")), None)
        windows.append(
            FaultWindow(
                index=index,
                description=description,
                start=applied.at if applied else None,
                end=removed.at if removed else (run_end if applied else None),
                error=failed.error if failed else None,
            )
        )
    return windows


def evaluate_assertions(
    profile: LoadProfile,
    timeline: Timeline,
    windows: Sequence[FaultWindow],
) -> list[Check]:
    return [_evaluate(a, profile, timeline, windows) for a in profile.assertions]


def _evaluate(
    assertion: Assertion, profile: LoadProfile, timeline: Timeline, windows: Sequence[FaultWindow]
) -> Check:
    series = timeline.breaker_series(assertion.edge)
    if isinstance(assertion, BreakerStayedClosed):
        return _stayed_closed(assertion, series)
    ref = assertion.during if isinstance(assertion, BreakerOpened) else assertion.after
    index, _ = profile.fault(ref)
    window = windows[index]
    name = _name(assertion, window)
    if not window.applied or window.start is None or window.end is None:
        why = window.error or "it was never applied"
        return Check(kind="assertion", name=name, passed=False, detail=f"{why}")
    if not series:
        return _no_metric(name, assertion.edge, timeline)
    if isinstance(assertion, BreakerOpened):
        return _opened(assertion, name, series, window.start, window.end)
    return _closed(assertion, name, series, window.end)


def _name(assertion: BreakerOpened | BreakerClosed, window: FaultWindow) -> str:
    if isinstance(assertion, BreakerOpened):
        return f"breaker {assertion.edge} opened during {window.description}"
    return (
        f"breaker {assertion.edge} closed within {assertion.within:g}s after {window.description}"
    )


def _no_metric(name: str, edge: str, timeline: Timeline) -> Check:
    known = ", ".join(timeline.breaker_edges()) or "none"
    return Check(
        kind="assertion",
        name=name,
        passed=False,
        detail=f"no breaker state was scraped for {edge} (edges with breakers: {known})",
    )


def _opened(
    assertion: BreakerOpened, name: str, series: list[Point], start: float, end: float
) -> Check:
    seen = [p for p in series if start <= p.t <= end + assertion.grace]
    tripped = next((p for p in seen if p.value != CLOSED), None)
    if tripped is None:
        return Check(
            kind="assertion",
            name=name,
            passed=False,
            detail=f"stayed closed over {len(seen)} scrapes in the {end - start:.1f}s window "
            f"(+{assertion.grace:g}s grace)",
        )
    state = BREAKER_STATE_NAMES.get(int(tripped.value), str(tripped.value))
    return Check(
        kind="assertion",
        name=name,
        passed=True,
        observed=round(tripped.t - start, 2),
        unit="s",
        detail=f"{state} {tripped.t - start:.1f}s after the fault began",
    )


def _closed(assertion: BreakerClosed, name: str, series: list[Point], end: float) -> Check:
    after = [p for p in series if p.t >= end]
    closed = next((p for p in after if p.value == CLOSED), None)
    if closed is not None and closed.t - end <= assertion.within:
        return Check(
            kind="assertion",
            name=name,
            passed=True,
            observed=round(closed.t - end, 2),
            limit=assertion.within,
            unit="s",
            comparison="<=",
            detail=f"closed {closed.t - end:.1f}s after the fault ended",
        )
    if closed is None:
        last = BREAKER_STATE_NAMES.get(int(after[-1].value), "?") if after else "unknown"
        detail = f"never seen closed after the fault ended (last state: {last})"
        observed = None
    else:
        detail = (
            f"closed {closed.t - end:.1f}s after the fault ended, limit {assertion.within:g}s: "
            f"missed by {closed.t - end - assertion.within:.1f}s"
        )
        observed = round(closed.t - end, 2)
    return Check(
        kind="assertion",
        name=name,
        passed=False,
        observed=observed,
        limit=assertion.within,
        unit="s",
        comparison="<=",
        detail=detail,
    )


def _stayed_closed(assertion: BreakerStayedClosed, series: list[Point]) -> Check:
    name = f"breaker {assertion.edge} stayed closed"
    if not series:
        return Check(
            kind="assertion", name=name, passed=False, detail="no breaker state was scraped"
        )
    opened = [p for p in series if p.value != CLOSED]
    if opened:
        return Check(
            kind="assertion",
            name=name,
            passed=False,
            detail=f"left closed in {len(opened)} of {len(series)} scrapes",
        )
    return Check(
        kind="assertion", name=name, passed=True, detail=f"closed in all {len(series)} scrapes"
    )
