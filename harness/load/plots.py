"""The report's figures, drawn with matplotlib and returned as inline SVG text.

Every time axis is "seconds since the load started", and every plot shades the fault
windows, so a latency spike can be read against the fault that caused it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.load.results import HistoryTick, LocustResult, percentile
from harness.load.summary import FaultWindowFigures
from harness.observe.timeline import Point, Timeline

__all__ = [
    "breaker_plot",
    "error_rate_plot",
    "latency_plot",
    "request_latency_plot",
    "throughput_plot",
]

WIDTH = 11.0
FAULT_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
STATE_COLOURS = {0: "#2ca02c", 1: "#d62728", 2: "#ff7f0e"}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: it goes inline


LEGEND_COLUMNS = 3
LEGEND_ROW_INCHES = 0.22


def _figure(height: float, *, legend_entries: int = 0) -> tuple[Figure, Axes]:
    """A figure whose plot area has fixed margins (inches), so the time axes of every plot
    line up one above the other; rows for a long legend are added above the plot."""
    rows = -(-legend_entries // LEGEND_COLUMNS) if legend_entries > LEGEND_COLUMNS else 1
    top_inches = 0.45 + (rows - 1) * LEGEND_ROW_INCHES
    total = height + top_inches - 0.45
    figure = Figure(figsize=(WIDTH, total))
    figure.subplots_adjust(
        left=1.5 / WIDTH, right=1 - 0.75 / WIDTH, top=1 - top_inches / total, bottom=0.55 / total
    )
    return figure, figure.add_subplot()


def _legend(axes: Axes, handles: list[Any] | None = None, labels: list[str] | None = None) -> None:
    """Above the plot, right-aligned (rows of LEGEND_COLUMNS), so it never hides a line."""
    if handles is None or labels is None:
        handles, labels = axes.get_legend_handles_labels()
    if handles:
        axes.legend(
            handles,
            labels,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=min(len(handles), LEGEND_COLUMNS),
            fontsize=8,
            frameon=False,
            borderaxespad=0.2,
        )


def _shade_faults(axes: Axes, faults: Sequence[FaultWindowFigures], *, label: bool) -> None:
    for fault in faults:
        if fault.start_s is None or fault.end_s is None:
            continue
        colour = FAULT_COLOURS[fault.index % len(FAULT_COLOURS)]
        axes.axvspan(fault.start_s, fault.end_s, color=colour, alpha=0.12, linewidth=0, zorder=0)
        if label:
            axes.text(
                fault.start_s,
                1.0,
                f" {fault.description}",
                transform=axes.get_xaxis_transform(),
                va="top",
                ha="left",
                fontsize=8,
                color=colour,
                clip_on=True,
            )


def _times(ticks: Sequence[HistoryTick], origin: float) -> list[float]:
    return [tick.t - origin for tick in ticks]


def _spans(ticks: Sequence[HistoryTick], interval: float) -> list[float]:
    """Seconds each tick covers (the first one: the nominal interval)."""
    spans = [interval]
    spans += [max(b.t - a.t, 1e-3) for a, b in pairwise(ticks)]
    return spans[: len(ticks)]


def _finish(axes: Axes, *, ylabel: str, duration: float) -> None:
    axes.set_xlabel("seconds since load start")
    axes.set_ylabel(ylabel)
    axes.set_xlim(0, max(duration, 1.0))
    axes.grid(True, alpha=0.3)


def latency_plot(
    result: LocustResult, faults: Sequence[FaultWindowFigures], *, p95_limit_ms: float | None = None
) -> str:
    """p50/p95/p99 of all requests per history interval."""
    figure, axes = _figure(3.4)
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
    _shade_faults(axes, faults, label=True)
    axes.set_title("Latency (all requests, per interval)", loc="left")
    _legend(axes)
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="ms", duration=result.duration)
    return _svg(figure)


def request_latency_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    """p95 of each request name per history interval."""
    figure, axes = _figure(3.4, legend_entries=len(result.requests))
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
    _shade_faults(axes, faults, label=False)
    axes.set_title("p95 latency per request", loc="left")
    _legend(axes)
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="ms", duration=result.duration)
    return _svg(figure)


def throughput_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    """Requests and failures per second, with the user count on a second axis."""
    figure, axes = _figure(3.4)
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
    _shade_faults(axes, faults, label=True)
    axes.set_title("Throughput", loc="left")
    lines = axes.get_legend_handles_labels()
    more = users_axes.get_legend_handles_labels()
    _legend(axes, lines[0] + more[0], lines[1] + more[1])
    axes.set_ylim(bottom=0)
    _finish(axes, ylabel="per second", duration=result.duration)
    return _svg(figure)


def error_rate_plot(result: LocustResult, faults: Sequence[FaultWindowFigures]) -> str:
    figure, axes = _figure(2.6)
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
    _shade_faults(axes, faults, label=True)
    axes.set_title("Error rate (failed share of requests, per interval)", loc="left")
    axes.set_ylim(0, max([5.0, *(p[1] * 1.1 for p in points)]))
    _finish(axes, ylabel="% failed", duration=result.duration)
    return _svg(figure)


def breaker_plot(
    timeline: Timeline, faults: Sequence[FaultWindowFigures], *, origin: float, duration: float
) -> str | None:
    """One lane per edge, coloured by breaker state over time; None when no edge has one."""
    states = timeline.breaker_states()
    if not states:
        return None
    edges = sorted(states)
    figure, axes = _figure(0.9 + 0.45 * len(edges))
    for lane, edge in enumerate(edges):
        for state, start, end in _state_runs(states[edge]):
            axes.broken_barh(
                [(start - origin, end - start)],
                (lane - 0.35, 0.7),
                color=STATE_COLOURS.get(state, "grey"),
                linewidth=0,
                zorder=2,
            )
    _shade_faults(axes, faults, label=False)
    axes.set_yticks(range(len(edges)), edges, fontsize=8)
    axes.set_ylim(-0.6, len(edges) - 0.4)
    axes.invert_yaxis()
    names = timeline.breaker_state_names()
    handles = [
        axes.bar(0, 0, color=STATE_COLOURS.get(int(state), "grey"), label=name)
        for state, name in names.items()
    ]
    _legend(axes, handles, list(names.values()))
    axes.set_title("Breaker state per edge", loc="left")
    _finish(axes, ylabel="", duration=duration)
    return _svg(figure)


def _state_runs(series: Sequence[Point]) -> list[tuple[int, float, float]]:
    """(state, start, end) for each run of equal consecutive states: one bar per run, so
    the lane has no hairline gaps and the SVG stays small."""
    runs: list[tuple[int, float, float]] = []
    for point, following in pairwise(series):
        state = int(point.value)
        if runs and runs[-1][0] == state and runs[-1][2] == point.t:
            runs[-1] = (state, runs[-1][1], following.t)
        else:
            runs.append((state, point.t, following.t))
    return runs
