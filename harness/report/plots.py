"""Plot helpers every report shares, drawn with matplotlib and returned as inline SVG text.

Every time axis is seconds from the run's origin (a report may start it below 0: the chaos
report counts from the method's start, its steady-state checks before it), every plot
shades the fault windows (one colour per fault, labelled on the top plot), and every plot
area has the same left and right margins, so plots stacked on a page line up and a spike
can be read against its fault.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = [
    "FAULT_COLOURS",
    "WIDTH",
    "Band",
    "Line",
    "Marker",
    "Window",
    "breaker_lanes",
    "draw_state_lanes",
    "figure",
    "finish_time_axis",
    "legend",
    "line_plot",
    "outcome_bars",
    "shade_bands",
    "state_colour",
    "state_runs",
    "svg",
    "window_lanes",
]

WIDTH = 11.0  # inches; the page scales the SVG to its width
LEFT_INCHES, RIGHT_INCHES = 2.1, 0.75
FAULT_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
LEGEND_COLUMNS = 3
LEGEND_ROW_INCHES = 0.22
# Breaker colours by state name; a state a convention adds gets a neutral grey.
STATE_COLOURS = {"closed": "#2ca02c", "open": "#d62728", "half_open": "#ff7f0e"}


@dataclass(frozen=True, slots=True)
class Band:
    """A stretch of the time axis to shade: a fault window, an assertion's window.

    `start`/`end` are seconds from the run's start; `end=None` runs to the end of the axis.
    `index` picks the colour, so a fault keeps its colour on every plot of a page.
    """

    label: str
    start: float
    end: float | None
    index: int = 0

    @property
    def colour(self) -> str:
        return FAULT_COLOURS[self.index % len(FAULT_COLOURS)]


def svg(fig: Figure) -> str:
    """The figure as inline SVG (no XML prolog, no date, so a page is reproducible)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figure(height: float, *, legend_entries: int = 0) -> tuple[Figure, Axes]:
    """A figure whose plot area has fixed margins (inches), so the time axes of every plot
    line up one above the other; rows for a long legend are added above the plot."""
    rows = -(-legend_entries // LEGEND_COLUMNS) if legend_entries > LEGEND_COLUMNS else 1
    top_inches = 0.45 + (rows - 1) * LEGEND_ROW_INCHES
    total = height + top_inches - 0.45
    fig = Figure(figsize=(WIDTH, total))
    fig.subplots_adjust(
        left=LEFT_INCHES / WIDTH,
        right=1 - RIGHT_INCHES / WIDTH,
        top=1 - top_inches / total,
        bottom=0.55 / total,
    )
    return fig, fig.add_subplot()


def legend(axes: Axes, handles: list[Any] | None = None, labels: list[str] | None = None) -> None:
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


def shade_bands(axes: Axes, bands: Sequence[Band], *, label: bool, end: float) -> None:
    """Shade each band; with `label`, write its name at the top left of the band."""
    for band in bands:
        stop = end if band.end is None else band.end
        axes.axvspan(band.start, stop, color=band.colour, alpha=0.12, linewidth=0, zorder=0)
        if label:
            axes.text(
                band.start,
                1.0,
                f" {band.label}",
                transform=axes.get_xaxis_transform(),
                va="top",
                ha="left",
                fontsize=8,
                color=band.colour,
                clip_on=True,
            )


def finish_time_axis(
    axes: Axes,
    *,
    ylabel: str,
    duration: float,
    xlabel: str = "seconds since start",
    start: float = 0.0,
) -> None:
    """Label the axes and show `start`..`duration` seconds (the same span on every plot)."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xlim(min(start, 0.0), max(duration, start + 1.0))
    axes.grid(True, alpha=0.3)


def state_colour(name: str) -> str:
    return STATE_COLOURS.get(name, "#7f7f7f")


def state_runs(
    series: Sequence[tuple[float, float]], *, end: float
) -> list[tuple[float, float, float]]:
    """(value, start, stop) for each run of equal consecutive values; the last run lasts
    until `end`. One bar per run: the lane has no hairline gaps and the SVG stays small."""
    runs: list[tuple[float, float, float]] = []
    for (t, value), (following, _) in pairwise([*series, (max(end, series[-1][0]), 0.0)]):
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1], following)
        else:
            runs.append((value, t, following))
    return runs


def draw_state_lanes(
    axes: Axes,
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    state_names: Mapping[float, str],
    end: float,
) -> None:
    """One horizontal lane per key, coloured by state over time, with a legend of states."""
    lanes = sorted(series)
    for lane, name in enumerate(lanes):
        points = series[name]
        if not points:
            continue
        for value, start, stop in state_runs(points, end=end):
            axes.broken_barh(
                [(start, stop - start)],
                (lane - 0.35, 0.7),
                color=state_colour(state_names.get(value, "")),
                linewidth=0,
                zorder=2,
            )
    axes.set_yticks(range(len(lanes)), lanes, fontsize=8)
    axes.set_ylim(-0.6, len(lanes) - 0.4)
    axes.invert_yaxis()
    names = list(dict.fromkeys(state_names.values()))
    legend(axes, [Patch(color=state_colour(n)) for n in names], names)


def breaker_lanes(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    state_names: Mapping[float, str],
    bands: Sequence[Band],
    duration: float,
    title: str = "Breaker state per edge",
    xlabel: str = "seconds since start",
    start: float = 0.0,
) -> str | None:
    """One lane per edge, coloured by breaker state over time; None when no edge has one.

    `series` maps an edge to its (seconds from the start, state value) points;
    `state_names` maps a state value to its name (`{0.0: "closed", 1.0: "open"}`).
    """
    if not any(series.values()):
        return None
    fig, axes = figure(0.9 + 0.45 * len(series))
    draw_state_lanes(axes, series, state_names=state_names, end=duration)
    shade_bands(axes, bands, label=False, end=duration)
    axes.set_title(title, loc="left")
    finish_time_axis(axes, ylabel="", duration=duration, xlabel=xlabel, start=start)
    return svg(fig)


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a line plot: (seconds from the start, value) points."""

    label: str
    points: Sequence[tuple[float, float]]
    colour: str | None = None
    width: float = 1.5


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical dotted line across a plot at `at` seconds (e.g. "method starts"); the
    label names it for the page's text (a rotated label inside the plot was unreadable
    over the bars)."""

    label: str
    at: float


def _markers(axes: Axes, markers: Sequence[Marker]) -> None:
    for marker in markers:
        axes.axvline(marker.at, color="#57606a", linestyle=":", linewidth=1.2, zorder=3)


def line_plot(
    lines: Sequence[Line],
    *,
    title: str,
    ylabel: str,
    bands: Sequence[Band],
    duration: float,
    limit: tuple[str, float] | None = None,
    markers: Sequence[Marker] = (),
    height: float = 3.0,
    xlabel: str = "seconds since start",
    start: float = 0.0,
) -> str:
    """Lines over time (e.g. p50/p95 latency) with the fault bands labelled and an optional
    horizontal limit line (label, value)."""
    fig, axes = figure(height, legend_entries=len(lines) + (1 if limit else 0))
    for line in lines:
        axes.plot(
            [p[0] for p in line.points],
            [p[1] for p in line.points],
            ".-" if len(line.points) < 40 else "-",
            markersize=3,
            color=line.colour,
            linewidth=line.width,
            label=line.label,
        )
    if limit is not None:
        axes.axhline(limit[1], color="black", linestyle="--", linewidth=1, label=limit[0])
    shade_bands(axes, bands, label=True, end=duration)
    _markers(axes, markers)
    axes.set_title(title, loc="left")
    legend(axes)
    axes.set_ylim(bottom=0)
    finish_time_axis(axes, ylabel=ylabel, duration=duration, xlabel=xlabel, start=start)
    return svg(fig)


def outcome_bars(
    buckets: Sequence[tuple[float, int, int]],
    *,
    title: str,
    bands: Sequence[Band],
    duration: float,
    width: float = 1.0,
    markers: Sequence[Marker] = (),
    xlabel: str = "seconds since start",
    start: float = 0.0,
) -> str:
    """Requests per second as stacked bars, ok (green) under errors (red).

    `buckets` are (bucket start in seconds, ok count, error count), each `width` seconds.
    """
    fig, axes = figure(3.0)
    starts = [b[0] for b in buckets]
    ok = [b[1] / width for b in buckets]
    errors = [b[2] / width for b in buckets]
    axes.bar(starts, ok, width=width, align="edge", color="#2ca02c", label="ok/s", linewidth=0)
    axes.bar(
        starts,
        errors,
        width=width,
        bottom=ok,
        align="edge",
        color="#d62728",
        label="not ok/s",
        linewidth=0,
    )
    shade_bands(axes, bands, label=True, end=duration)
    _markers(axes, markers)
    axes.set_title(title, loc="left")
    legend(axes)
    axes.set_ylim(0, max([1.0, *(a + b for a, b in zip(ok, errors, strict=True))]) * 1.15)
    finish_time_axis(axes, ylabel="requests/s", duration=duration, xlabel=xlabel, start=start)
    return svg(fig)


@dataclass(frozen=True, slots=True)
class Window:
    """One lane of a window plot: an assertion's window and how it ended."""

    label: str
    start: float
    end: float | None
    status: str  # passed / failed / pending / skipped
    resolved_at: float | None = None


WINDOW_COLOURS = {
    "passed": "#2ca02c",
    "failed": "#d62728",
    "pending": "#7f7f7f",
    "skipped": "#bbbbbb",
}


def window_lanes(
    windows: Sequence[Window],
    *,
    title: str,
    bands: Sequence[Band],
    duration: float,
    xlabel: str = "seconds since start",
    start: float = 0.0,
) -> str | None:
    """One lane per window (e.g. each assertion's), coloured by its status, with a diamond
    where it was decided; None when there is none."""
    if not windows:
        return None
    fig, axes = figure(0.9 + 0.4 * len(windows), legend_entries=4)
    for lane, window in enumerate(windows):
        colour = WINDOW_COLOURS.get(window.status, "#7f7f7f")
        stop = duration if window.end is None else window.end
        axes.broken_barh(
            [(window.start, max(stop - window.start, duration / 400))],
            (lane - 0.3, 0.6),
            color=colour,
            alpha=0.55,
            linewidth=0,
            zorder=2,
        )
        if window.resolved_at is not None:
            axes.plot([window.resolved_at], [lane], "D", color=colour, markersize=6, zorder=3)
    shade_bands(axes, bands, label=False, end=duration)
    axes.set_yticks(range(len(windows)), [_lane_label(w.label) for w in windows], fontsize=7.5)
    axes.set_ylim(-0.6, len(windows) - 0.4)
    axes.invert_yaxis()
    names = [s for s in WINDOW_COLOURS if any(w.status == s for w in windows)]
    legend(axes, [Patch(color=WINDOW_COLOURS[n], alpha=0.55) for n in names], names)
    axes.set_title(title, loc="left")
    finish_time_axis(axes, ylabel="", duration=duration, xlabel=xlabel, start=start)
    return svg(fig)


def _lane_label(label: str, width: int = 30) -> str:
    """A lane's name on at most two lines that fit the left margin (the table below the
    plot has it in full)."""
    return "\n".join(textwrap.wrap(label, width=width, max_lines=2, placeholder="…"))
