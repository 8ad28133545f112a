"""The report's figures, drawn with matplotlib and returned as inline SVG text.

Every time axis is "seconds since the load started", and every plot shades the fault
windows, so a latency spike can be read against the fault that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from matplotlib.axes import Axes

from harness.load.results import HistoryTick, LocustResult, percentile
from harness.load.summary import FaultWindowFigures
from harness.observe.timeline import Timeline
from harness.report.plots import (
    Band,
    breaker_lanes,
    figure,
    finish_time_axis,
    legend,
    shade_bands,
    svg,
)

__all__ = [
    "breaker_plot",
    "error_rate_plot",
    "latency_plot",
    "request_latency_plot",
    "throughput_plot",
]

XLABEL = "seconds since load start"


def _bands(faults: Sequence[FaultWindowFigures]) -> list[Band]:
    return [
        Band(fault.description, fault.start_s, fault.end_s, index=fault.index)
        for fault in faults
        if fault.start_s is not None and fault.end_s is not None
    ]


def _shade_faults(
    axes: Axes, faults: Sequence[FaultWindowFigures], *, label: bool, end: float
) -> None:
    shade_bands(axes, _bands(faults), label=label, end=end)


def _finish(axes: Axes, *, ylabel: str, duration: float) -> None:
    finish_time_axis(axes, ylabel=ylabel, duration=duration, xlabel=XLABEL)


def _times(ticks: Sequence[HistoryTick], origin: float) -> list[float]:
    return [tick.t - origin for tick in ticks]


def _spans(ticks: Sequence[HistoryTick], interval: float) -> list[float]:
    """Seconds each tick covers (the first one: the nominal interval)."""
    spans = [interval]
    spans += [max(b.t - a.t, 1e-3) for a, b in pairwise(ticks)]
    return spans[: len(ticks)]


def latency_plot(
    result: LocustResult, faults: Sequence[FaultWindowFigures], *, p95_limit_ms: float | None = None
) -> str:
    """p50/p95/p99 of all requests per history interval."""
    fig, axes = figure(3.4)
    ticks = result.history[1:]
    times = _times(ticks, result.started_at)
    totals = [tick.total() for tick in ticks]
    # p99 first and light, so p95 stays readable where the two coincide.
    for q, colour, width in (
        (0.99, "#f4a6a6", 2.5),
        (0.95, "#ff7f0e", 1.5),
        (0.50, "#1f77b4", 1.5),
    ):
        values = [percentile(t.histogram, q) for t in totals]
        points = [(x, y) for x, y in zip(times, values, strict=True) if y is not None]
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=colour,
            linewidth=width,
            label=f"p{q * 100:.0f}",
        )
    if p95_limit_ms is not None:
        axes.axhline(p95_limit_ms, color="black", linestyle="--", linewidth=1, label="p95 SLO")
    _shade_faults(axes, faults, label=True, end=result.duration)
    axes.set_title("Latency (all requests, per interval)", loc="left")
    legend(axes)
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="ms", duration=result.duration)
    return svg(fig)


def request_latency_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    """p95 of each request name per history interval."""
    fig, axes = figure(3.4, legend_entries=len(result.requests))
    ticks = result.history[1:]
    for stats in result.requests:
        points = [
            (tick.t - result.started_at, percentile(entry.histogram, 0.95))
            for tick in ticks
            for key, entry in tick.entries.items()
            if key == stats.key
        ]
        shown = [(x, y) for x, y in points if y is not None]
        axes.plot([p[0] for p in shown], [p[1] for p in shown], ".-", markersize=3, label=stats.key)
    _shade_faults(axes, faults, label=False, end=result.duration)
    axes.set_title("p95 latency per request", loc="left")
    legend(axes)
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="ms", duration=result.duration)
    return svg(fig)


def throughput_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    """Requests and failures per second, with the user count on a second axis."""
    fig, axes = figure(3.4)
    ticks = result.history[1:]
    times = _times(ticks, result.started_at)
    spans = _spans(ticks, result.interval)
    totals = [tick.total() for tick in ticks]
    axes.plot(times, [t.requests / s for t, s in zip(totals, spans, strict=True)], label="req/s")
    axes.plot(
        times,
        [t.failures / s for t, s in zip(totals, spans, strict=True)],
        color="#d62728",
        label="failures/s",
    )
    users_axes = axes.twinx()
    users_axes.step(
        times, [tick.users for tick in ticks], where="post", color="grey", alpha=0.6, label="users"
    )
    users_axes.set_ylabel("users")
    users_axes.set_ylim(0, max([1, *(tick.users for tick in ticks)]) * 1.15)
    _shade_faults(axes, faults, label=True, end=result.duration)
    axes.set_title("Throughput", loc="left")
    lines = axes.get_legend_handles_labels()
    more = users_axes.get_legend_handles_labels()
    legend(axes, lines[0] + more[0], lines[1] + more[1])
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="per second", duration=result.duration)
    return svg(fig)


def error_rate_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    fig, axes = figure(2.6)
    ticks = result.history[1:]
    totals = [tick.total() for tick in ticks]
    points = [
        (tick.t - result.started_at, 100.0 * t.failures / t.requests)
        for tick, t in zip(ticks, totals, strict=True)
        if t.requests
    ]
    axes.fill_between(
        [p[0] for p in points], [p[1] for p in points], step="pre", color="#d62728", alpha=0.5
    )
    _shade_faults(axes, faults, label=True, end=result.duration)
    axes.set_title("Error rate (failed share of requests, per interval)", loc="left")
    axes.set_ylim(0, max([5.0, *(p[1] * 1.1 for p in points)]))
    _finish(axes, ylabel="% failed", duration=result.duration)
    return svg(fig)


def breaker_plot(
    timeline: Timeline,
    faults: Sequence[FaultWindowFigures],
    *,
    origin: float,
    duration: float,
) -> str | None:
    """One lane per edge, coloured by breaker state over time; None when no edge has one.

    The timeline reads each edge's breaker through the topology's breaker convention."""
    states = timeline.breaker_states()
    series = {e: [(p.t - origin, p.value) for p in points] for e, points in states.items()}
    return breaker_lanes(
        series,
        state_names=timeline.breaker_state_names(),
        bands=_bands(faults),
        duration=duration,
        title="Breaker state per edge",
        xlabel=XLABEL,
    )
