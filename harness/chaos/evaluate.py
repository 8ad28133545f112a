"""Judge assertions against what was recorded: pure functions of a metrics timeline,
traffic records and the times things happened, so they are tested on synthetic data.

Each evaluation returns a `Verdict`: `pending` while the window is still open and nothing
decided it, then `passed` or `failed` with the evidence (values seen, when, against what
bound). The runner calls them every tick for the live view and once more at the end with
`final=True`, when pending becomes failed (or passed, for `always`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from harness.chaos.model import (
    BREAKER_STATES,
    Anchor,
    BreakerAssertion,
    MetricAssertion,
    TrafficAssertion,
)
from harness.faults import TimelineEvent
from harness.observe.timeline import BREAKER_STATE_METRIC, Point, Timeline
from harness.traffic import TrafficRecord

__all__ = [
    "BREAKER_TRANSITIONS_METRIC",
    "Anchors",
    "Verdict",
    "Window",
    "evaluate_breaker",
    "evaluate_metric",
    "evaluate_traffic",
    "percentile",
    "window_of",
]

BREAKER_TRANSITIONS_METRIC = "shop_breaker_transitions_total"
Status = Literal["pending", "passed", "failed"]
_MAX_EVIDENCE_POINTS = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.status != "pending"


class Anchors:
    """Wall-clock times of the named moments of a run (`start`, `end`, `traffic.start`,
    `<fault label>.start`, ...); a moment that has not happened yet is absent."""

    def __init__(self, times: Mapping[str, float] | None = None) -> None:
        self._times: dict[str, float] = dict(times or {})

    def set(self, key: str, at: float) -> None:
        self._times[key] = at

    def record_fault_events(self, events: Iterable[TimelineEvent]) -> None:
        """`label.start` from a fault's first successful apply, `label.end` from its last
        removal (a repeated fault spans all its pulses)."""
        for event in events:
            if event.label is None:
                continue
            if event.action == "apply" and event.ok:
                self._times.setdefault(f"{event.label}.start", event.at)
            elif event.action in ("remove", "rollback"):
                key = f"{event.label}.end"
                self._times[key] = max(event.at, self._times.get(key, event.at))

    def time_of_key(self, key: str) -> float | None:
        """`start`, `end`, `traffic.end`, `<label>.start`, ... (None: not happened yet)."""
        return self._times.get(key)

    def time_of(self, anchor: Anchor) -> float | None:
        key = anchor.name if anchor.name in ("start", "end") else f"{anchor.name}.{anchor.edge}"
        at = self._times.get(key)
        return None if at is None else at + anchor.offset

    @property
    def origin(self) -> float | None:
        """The method's start: evidence gives times as offsets from it."""
        return self._times.get("start")

    def as_offsets(self) -> dict[str, float]:
        origin = self.origin or 0.0
        return {key: round(at - origin, 3) for key, at in sorted(self._times.items())}


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float | None  # None: the end anchor has not happened yet


def window_of(
    after: Anchor, within: float | None, until: Anchor | None, anchors: Anchors
) -> Window | None:
    """The assertion's window, or None while its start has not happened."""
    start = anchors.time_of(after)
    if start is None:
        return None
    if within is not None:
        return Window(start, start + within)
    end = anchors.time_of(until or Anchor(name="end", edge="end"))
    return Window(start, end)


def _offset(at: float | None, anchors: Anchors) -> float | None:
    origin = anchors.origin
    if at is None or origin is None:
        return None
    return round(at - origin, 3)


def _points_evidence(points: Sequence[Point], anchors: Anchors) -> list[list[float | None]]:
    chosen = list(points)
    if len(chosen) > _MAX_EVIDENCE_POINTS:
        step = math.ceil(len(chosen) / _MAX_EVIDENCE_POINTS)
        chosen = chosen[::step]
    return [[_offset(p.t, anchors), p.value] for p in chosen]


def _window_evidence(window: Window, anchors: Anchors, grace: float) -> dict[str, Any]:
    return {
        "window": [_offset(window.start, anchors), _offset(window.end, anchors)],
        "scrape_grace": grace,
    }


def _not_started(description: str) -> Verdict:
    return Verdict("pending", f"waiting for the window to open ({description})")


def _never_started(description: str) -> Verdict:
    return Verdict("failed", f"the window never opened: {description} did not happen")


# --- quantified series -----------------------------------------------------------------


def _judge_series(
    points: Sequence[Point],
    ok: Any,
    *,
    mode: Literal["eventually", "always", "overall"],
    window: Window,
    now: float,
    final: bool,
    grace: float,
    anchors: Anchors,
    what: str,
    bound: str,
) -> Verdict:
    """Apply a quantifier to points already restricted to the window (+grace)."""
    evidence: dict[str, Any] = {
        **_window_evidence(window, anchors, grace),
        "scrapes": len(points),
        "observed": _points_evidence(points, anchors),
    }
    closed = window.end is not None and now > window.end + grace
    if mode == "eventually":
        hit = next((p for p in points if ok(p.value)), None)
        if hit is not None:
            evidence["satisfied_at"] = _offset(hit.t, anchors)
            delay = hit.t - window.start
            return Verdict(
                "passed",
                f"{what} {bound}: {hit.value:g} seen {delay:.1f}s into the window",
                evidence,
            )
        if closed or final:
            last = f"; last value {points[-1].value:g}" if points else "; no scrape in the window"
            return Verdict("failed", f"{what} never {bound} in the window{last}", evidence)
        return Verdict("pending", f"waiting for {what} {bound}", evidence)
    if mode == "always":
        miss = next((p for p in points if not ok(p.value)), None)
        if miss is not None:
            evidence["violated_at"] = _offset(miss.t, anchors)
            return Verdict("failed", f"{what} was {miss.value:g}, expected {bound}", evidence)
        if closed or final:
            if not points:
                return Verdict("failed", f"no scrape of {what} in the window", evidence)
            return Verdict("passed", f"{what} {bound} in all {len(points)} scrapes", evidence)
        return Verdict("pending", f"{what} {bound} so far", evidence)
    # overall: the last point carries the whole window's value
    if not (closed or final):
        return Verdict("pending", f"window open; {what} so far", evidence)
    if not points:
        return Verdict("failed", f"no scrape of {what} in the window", evidence)
    value = points[-1].value
    evidence["value"] = value
    status: Status = "passed" if ok(value) else "failed"
    return Verdict(status, f"{what} = {value:g}, expected {bound}", evidence)


def _within(points: Sequence[Point], start: float, end: float | None) -> list[Point]:
    return [p for p in points if p.t >= start and (end is None or p.t <= end)]


def _increase(before: float, after: float) -> float:
    # A drop is a counter reset (the service restarted): the new value is the increase.
    return after - before if after >= before else after


def _cumulative(points: Sequence[Point], baseline: Point | None) -> list[Point]:
    """Increase since `baseline` (or since the first point) at each point."""
    chain = ([baseline] if baseline is not None else []) + list(points)
    total = 0.0
    out = [Point(chain[0].t, 0.0)] if baseline is None and chain else []
    for before, after in pairwise(chain):
        total += _increase(before.value, after.value)
        out.append(Point(after.t, total))
    return out


def _baseline(points: Sequence[Point], start: float) -> Point | None:
    earlier = [p for p in points if p.t < start]
    return earlier[-1] if earlier else None


# --- metric ------------------------------------------------------------------------------


def evaluate_metric(
    assertion: MetricAssertion,
    timeline: Timeline,
    anchors: Anchors,
    *,
    now: float,
    final: bool = False,
    grace: float = 1.0,
) -> Verdict:
    """A metric's value (or increase, or increase ratio) over the assertion's window."""
    window = window_of(assertion.after, assertion.within, assertion.until, anchors)
    if window is None:
        return _never_started(str(assertion.after)) if final else _not_started(str(assertion.after))
    mode = assertion.effective_mode
    end = None if window.end is None else window.end + (grace if mode == "eventually" else 0.0)
    what = assertion.describe_metric()
    if assertion.measure == "value":
        points = _within(
            timeline.series(assertion.service, assertion.metric, **assertion.labels),
            window.start,
            end,
        )
    else:
        points = _increase_points(assertion, timeline, window.start, end)
        what = f"increase of {what}" + (
            f" per increase of {assertion.per.describe_metric()}" if assertion.per else ""
        )
    return _judge_series(
        points,
        assertion.compare,
        mode=mode,
        window=window,
        now=now,
        final=final,
        grace=grace,
        anchors=anchors,
        what=what,
        bound=assertion.describe_comparison(),
    )


def _increase_points(
    assertion: MetricAssertion, timeline: Timeline, start: float, end: float | None
) -> list[Point]:
    series = timeline.counter_series(assertion.service, assertion.metric, **assertion.labels)
    numerator = _cumulative(_within(series, start, end), _baseline(series, start))
    if assertion.per is None:
        return numerator
    per = assertion.per
    per_series = timeline.counter_series(per.service, per.metric, **per.labels)
    denominator = _cumulative(_within(per_series, start, end), _baseline(per_series, start))
    return [_ratio(point, denominator) for point in numerator]


def _ratio(point: Point, denominator: Sequence[Point]) -> Point:
    below = [d.value for d in denominator if d.t <= point.t + 0.5]
    divisor = below[-1] if below else 0.0
    if divisor == 0:
        return Point(point.t, 0.0 if point.value == 0 else math.inf)
    return Point(point.t, point.value / divisor)


# --- breaker -----------------------------------------------------------------------------


def evaluate_breaker(
    assertion: BreakerAssertion,
    timeline: Timeline,
    anchors: Anchors,
    *,
    now: float,
    final: bool = False,
    grace: float = 1.0,
    state_metric: str = BREAKER_STATE_METRIC,
    transitions_metric: str = BREAKER_TRANSITIONS_METRIC,
) -> Verdict:
    """An edge's breaker reached (or kept) a state, or made transitions in order."""
    window = window_of(assertion.after, assertion.within, assertion.until, anchors)
    if window is None:
        return _never_started(str(assertion.after)) if final else _not_started(str(assertion.after))
    source, _, target = assertion.breaker.partition("->")
    if assertion.transitions is not None:
        return _judge_transitions(
            assertion, timeline, anchors, window, source, target,
            now=now, final=final, grace=grace, metric=transitions_metric,
        )  # fmt: skip
    assert assertion.state is not None
    code = BREAKER_STATES[assertion.state]
    end = (
        None
        if window.end is None
        else window.end + (grace if assertion.mode == "eventually" else 0)
    )
    points = _within(timeline.series(source, state_metric, dependency=target), window.start, end)
    verdict = _judge_series(
        points,
        lambda value: value == code,
        mode=assertion.mode,
        window=window,
        now=now,
        final=final,
        grace=grace,
        anchors=anchors,
        what=f"breaker {assertion.breaker}",
        bound=f"{assertion.state} ({code})",
    )
    if assertion.mode == "eventually" and verdict.status != "passed":
        # A state held for less than a scrape interval still shows in the transition counter.
        moved = _first_increase(
            timeline.counter_series(
                source, transitions_metric, dependency=target, to_state=assertion.state
            ),
            window.start,
            end,
        )
        if moved is not None:
            evidence = {**verdict.evidence, "transition_seen_at": _offset(moved, anchors)}
            delay = moved - window.start
            return Verdict(
                "passed",
                f"breaker {assertion.breaker} moved to {assertion.state} "
                f"{delay:.1f}s into the window (transition counter)",
                evidence,
            )
    return verdict


def _first_increase(series: Sequence[Point], start: float, end: float | None) -> float | None:
    """Time of the first scrape in [start, end] at which the counter grew."""
    baseline = _baseline(series, start)
    chain = ([baseline] if baseline is not None else []) + _within(series, start, end)
    if baseline is None and chain and chain[0].value > 0:
        # The counter appeared in the window already non-zero (labelled counters are
        # created on first increment): count it as growing then.
        return chain[0].t
    for before, after in pairwise(chain):
        if _increase(before.value, after.value) > 0:
            return after.t
    return None


def _judge_transitions(
    assertion: BreakerAssertion,
    timeline: Timeline,
    anchors: Anchors,
    window: Window,
    source: str,
    target: str,
    *,
    now: float,
    final: bool,
    grace: float,
    metric: str,
) -> Verdict:
    assert assertion.transitions is not None
    end = None if window.end is None else window.end + grace
    after = window.start
    seen: list[dict[str, Any]] = []
    for from_state, to_state in assertion.transitions:
        series = timeline.counter_series(
            source, metric, dependency=target, from_state=from_state, to_state=to_state
        )
        at = _first_increase(series, after, end)
        label = f"{from_state}->{to_state}"
        if at is None:
            evidence = {**_window_evidence(window, anchors, grace), "transitions_seen": seen}
            closed = window.end is not None and now > window.end + grace
            if closed or final:
                return Verdict(
                    "failed",
                    f"breaker {assertion.breaker}: no {label} transition"
                    + (f" after {seen[-1]['transition']}" if seen else "")
                    + " in the window",
                    evidence,
                )
            return Verdict("pending", f"waiting for {label} on {assertion.breaker}", evidence)
        seen.append({"transition": label, "at": _offset(at, anchors)})
        after = at
    evidence = {**_window_evidence(window, anchors, grace), "transitions_seen": seen}
    steps = ", ".join(f"{s['transition']} at +{s['at']}s" for s in seen)
    return Verdict("passed", f"breaker {assertion.breaker}: {steps}", evidence)


# --- traffic -----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in (0, 1]); values need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


_LATENCY = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "max": 1.0}


def evaluate_traffic(
    assertion: TrafficAssertion,
    records: Sequence[TrafficRecord],
    anchors: Anchors,
    *,
    now: float,
    final: bool = False,
    settle: float = 0.0,
    in_flight: Sequence[float] = (),
) -> Verdict:
    """What clients saw, over requests that started in the window.

    The verdict waits until the requests started before the window's end have finished:
    `in_flight` holds the start times of requests still running, and `settle` (the
    traffic's request timeout) bounds the wait.
    """
    window = window_of(assertion.after, assertion.within, assertion.until, anchors)
    if window is None:
        return _never_started(str(assertion.after)) if final else _not_started(str(assertion.after))
    end = window.end
    waiting = end is not None and any(started <= end for started in in_flight)
    closed = end is not None and now > end and (not waiting or now > end + settle)
    if not (closed or final):
        return Verdict("pending", "window open")
    chosen = [
        r
        for r in records
        if (assertion.traffic == "any" or r.name == assertion.traffic)
        and r.started_at >= window.start
        and (window.end is None or r.started_at <= window.end)
    ]
    matching = [r for r in chosen if _matches(assertion, r)]
    evidence: dict[str, Any] = {
        "window": [_offset(window.start, anchors), _offset(window.end, anchors)],
        "requests": len(chosen),
        "matching": len(matching),
        "statuses": _status_counts(chosen),
    }
    what = _describe_traffic(assertion)
    bound = assertion.describe_comparison()
    if assertion.measure == "count":
        value: float = len(matching)
    elif assertion.measure == "ratio":
        if not chosen:
            return Verdict("failed", f"no {assertion.traffic} requests in the window", evidence)
        value = len(matching) / len(chosen)
    else:
        if not matching:
            return Verdict("failed", f"no matching requests to measure {what}", evidence)
        value = percentile([r.latency for r in matching], _LATENCY[assertion.measure])
    evidence["value"] = value
    status: Status = "passed" if assertion.compare(value) else "failed"
    return Verdict(status, f"{what} = {value:.3g}, expected {bound}", evidence)


def _matches(assertion: TrafficAssertion, record: TrafficRecord) -> bool:
    if assertion.status is not None:
        return record.status in assertion.status
    if assertion.outcome == "ok":
        return record.ok
    if assertion.outcome == "error":
        return not record.ok
    return True


def _status_counts(records: Sequence[TrafficRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = str(record.status) if record.status is not None else (record.error or "error")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _describe_traffic(assertion: TrafficAssertion) -> str:
    subject = "requests" if assertion.traffic == "any" else f"{assertion.traffic} requests"
    if assertion.status is not None:
        subject += f" with status {', '.join(map(str, assertion.status))}"
    elif assertion.outcome != "any":
        subject = f"{assertion.outcome} {subject}"
    measure = {"count": "count of", "ratio": "share of"}.get(
        assertion.measure, f"{assertion.measure} latency (s) of"
    )
    return f"{measure} {subject}"
