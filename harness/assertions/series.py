"""Judging a series of scraped points over a window: quantifiers (`eventually`, `always`,
`overall`), counter increases with resets, first growth of a counter, percentiles.

Pure functions of points and times, shared by the metric and breaker kinds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, Literal

from harness.assertions.check import CheckStatus
from harness.assertions.window import Anchors, Window
from harness.observe.timeline import Point

__all__ = [
    "Judged",
    "Mode",
    "baseline",
    "cumulative",
    "first_increase",
    "increase",
    "judge_series",
    "percentile",
    "points_evidence",
    "window_evidence",
    "within",
]

Mode = Literal["eventually", "always", "overall"]
#: (status, summary, evidence, observed figure)
Judged = tuple[CheckStatus, str, dict[str, Any], float | None]
_MAX_EVIDENCE_POINTS = 60


def points_evidence(points: Sequence[Point], anchors: Anchors) -> list[list[float | None]]:
    chosen = list(points)
    if len(chosen) > _MAX_EVIDENCE_POINTS:
        step = math.ceil(len(chosen) / _MAX_EVIDENCE_POINTS)
        chosen = chosen[::step]
    return [[anchors.offset(p.t), p.value] for p in chosen]


def window_evidence(window: Window, anchors: Anchors, grace: float) -> dict[str, Any]:
    return {
        "window": [anchors.offset(window.start), anchors.offset(window.end)],
        "scrape_grace": grace,
    }


def judge_series(
    points: Sequence[Point],
    ok: Callable[[float], bool],
    *,
    mode: Mode,
    window: Window,
    now: float,
    final: bool,
    grace: float,
    anchors: Anchors,
    what: str,
    bound: str,
    show: Callable[[float], str] = lambda value: f"{value:g}",
) -> Judged:
    """Apply a quantifier to points already restricted to the window (+grace)."""
    evidence: dict[str, Any] = {
        **window_evidence(window, anchors, grace),
        "scrapes": len(points),
        "observed": points_evidence(points, anchors),
    }
    closed = window.closed(now, grace=grace)
    if mode == "eventually":
        hit = next((p for p in points if ok(p.value)), None)
        if hit is not None:
            evidence["satisfied_at"] = anchors.offset(hit.t)
            delay = hit.t - window.start
            summary = f"{what} {bound}: {show(hit.value)} seen {delay:.1f}s into the window"
            return "passed", summary, evidence, round(delay, 3)
        if closed or final:
            last = (
                f"; last value {show(points[-1].value)}" if points else "; no scrape in the window"
            )
            return "failed", f"{what} never {bound} in the window{last}", evidence, None
        return "pending", f"waiting for {what} {bound}", evidence, None
    if mode == "always":
        miss = next((p for p in points if not ok(p.value)), None)
        if miss is not None:
            evidence["violated_at"] = anchors.offset(miss.t)
            left = sum(1 for p in points if not ok(p.value))
            summary = (
                f"{what} was {show(miss.value)}, expected {bound} ({left} of {len(points)} scrapes)"
            )
            return "failed", summary, evidence, miss.value
        if closed or final:
            if not points:
                return "failed", f"no scrape of {what} in the window", evidence, None
            return "passed", f"{what} {bound} in all {len(points)} scrapes", evidence, None
        return "pending", f"{what} {bound} so far", evidence, None
    # overall: the last point carries the whole window's value
    if not (closed or final):
        return "pending", f"window open; {what} so far", evidence, None
    if not points:
        return "failed", f"no scrape of {what} in the window", evidence, None
    value = points[-1].value
    evidence["value"] = value
    status: CheckStatus = "passed" if ok(value) else "failed"
    return status, f"{what} = {show(value)}, expected {bound}", evidence, value


def within(points: Sequence[Point], start: float, end: float | None) -> list[Point]:
    return [p for p in points if p.t >= start and (end is None or p.t <= end)]


def increase(before: float, after: float) -> float:
    """A counter's growth; a drop is a reset (the service restarted): the new value."""
    return after - before if after >= before else after


def cumulative(points: Sequence[Point], start_point: Point | None) -> list[Point]:
    """Increase since `start_point` (or since the first point) at each point."""
    chain = ([start_point] if start_point is not None else []) + list(points)
    total = 0.0
    out = [Point(chain[0].t, 0.0)] if start_point is None and chain else []
    for before, after in pairwise(chain):
        total += increase(before.value, after.value)
        out.append(Point(after.t, total))
    return out


def baseline(points: Sequence[Point], start: float) -> Point | None:
    """The last point before `start` (what a counter stood at when the window opened)."""
    earlier = [p for p in points if p.t < start]
    return earlier[-1] if earlier else None


def first_increase(series: Sequence[Point], start: float, end: float | None) -> float | None:
    """Time of the first scrape in [start, end] at which the counter grew."""
    before = baseline(series, start)
    chain = ([before] if before is not None else []) + within(series, start, end)
    if before is None and chain and chain[0].value > 0:
        # The counter appeared in the window already non-zero (labelled counters are
        # created on first increment): count it as growing then.
        return chain[0].t
    for earlier, later in pairwise(chain):
        if increase(earlier.value, later.value) > 0:
            return later.t
    return None


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in (0, 1]); values need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
