"""Reports of chaos runs: text for terminals and CI logs, and one self-contained HTML page per
run in the shared report stack (`harness.report`): the verdict, the whole run on one time axis
(traffic, latency, breaker lanes, assertion windows, fault windows shaded), the assertions as
the shared checks table, then traffic, steady state, faults and the run log."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from harness.chaos.journal import journal_stem
from harness.chaos.result import ExperimentResult
from harness.report import CheckRow, Figure, Page, format_evidence, render_page
from harness.topology.conventions import BreakerConvention
from harness.traffic import request_counts

__all__ = [
    "assertion_rows",
    "breaker_conventions",
    "render_html",
    "render_text",
    "summary_table",
    "timeline_figures",
    "write_html_report",
]

_MARK = {"passed": "PASS", "failed": "FAIL", "pending": "----", "skipped": "SKIP"}
_STATUS_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "aborted": "bold red",
    "interrupted": "yellow",
}


# --- text -------------------------------------------------------------------------------


def summary_table(results: Sequence[ExperimentResult]) -> Table:
    """One row per experiment: status, duration, seed, what failed."""
    table = Table(title="chaos experiments", show_lines=False)
    table.add_column("experiment", overflow="fold", min_width=24)
    table.add_column("status")
    table.add_column("duration", justify="right")
    table.add_column("seed", justify="right")
    table.add_column("assertions", justify="right")
    table.add_column("failed")
    for result in results:
        passed = sum(1 for a in result.assertions if a.status == "passed")
        failed = [a.name for a in result.failed_assertions] or (
            [result.reason] if result.reason else []
        )
        table.add_row(
            Path(result.experiment.source).stem or result.experiment.title,
            Text(result.status.upper(), style=_STATUS_STYLE.get(result.status, "")),
            f"{result.duration:.1f}s",
            str(result.seed),
            f"{passed}/{len(result.assertions)}",
            "; ".join(failed),
        )
    return table


def render_text(result: ExperimentResult) -> str:
    """The short report of one run, as plain text (ends with where its files are)."""
    lines = [
        f"{result.experiment.title}  [{result.status.upper()}]  "
        f"{result.duration:.1f}s  seed {result.seed}"
    ]
    if result.reason:
        lines.append(f"  reason: {result.reason}")
    for when, probes in (("before", result.steady_before), ("after", result.steady_after)):
        for probe in probes:
            mark = "ok " if probe.result.ok else "BAD"
            lines.append(f"  steady state {when:<6} {mark} {probe.name}: {probe.result.summary}")
    for event in result.fault_events:
        state = "" if event.ok else f"  FAILED: {event.error}"
        lines.append(f"  fault {event.offset:+7.2f}s {event.action:<8} {event.description}{state}")
    for name, counts in request_counts(result.traffic).items():
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(counts["statuses"].items()))
        lines.append(
            f"  traffic {name}: {counts['total']} sent, {counts['ok']} ok, "
            f"{counts['error']} not ({statuses})"
        )
    for assertion in result.assertions:
        at = f" @{assertion.resolved_at:+.1f}s" if assertion.resolved_at is not None else ""
        lines.append(f"  {_MARK[assertion.status]} {assertion.name}{at}: {assertion.summary}")
    lines += [f"  error: {error}" for error in result.errors]
    if not result.passed:
        lines.append(f"  replay: {result.replay_command}")
    if result.journal_path:
        lines.append(f"  journal: {result.journal_path}")
    if result.report_path:
        lines.append(f"  report:  {result.report_path}")
    return "\n".join(lines)


# --- the checks table -------------------------------------------------------------------


def assertion_rows(result: ExperimentResult) -> list[CheckRow]:
    """The run's assertions as rows of the shared checks table (the one adapter to change
    when the assertion result type changes)."""
    rows = []
    for a in result.assertions:
        value = a.evidence.get("value")
        decided = "" if a.resolved_at is None else f"decided at {a.resolved_at:+.1f}s: "
        rows.append(
            CheckRow(
                name=a.name,
                status=a.status,
                kind=a.kind,
                description=a.expectation,
                observed=f"{value:.4g}" if isinstance(value, int | float) else "",
                detail=decided + a.summary,
                evidence=format_evidence(a.evidence),
            )
        )
    return rows


# --- html -------------------------------------------------------------------------------


def render_html(
    result: ExperimentResult, *, breakers: Mapping[str, BreakerConvention] | None = None
) -> str:
    """One self-contained page for one run.

    `breakers` (service -> its breaker convention) draws the breaker lanes; by default it
    is what the run recorded from the topology (`result.system["breakers"]`).
    """
    experiment = result.experiment
    passed = sum(1 for a in result.assertions if a.status == "passed")
    summary = f"{passed} of {len(result.assertions)} assertions passed"
    if result.reason:
        summary += f" · {result.reason}"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result.started_at))
    page = Page(
        title=experiment.title,
        status=result.status,
        summary=summary,
        meta=(
            f"experiment {experiment.source}",
            f"started {started}",
            f"{result.duration:.1f} s",
            f"seed {result.seed}",
        ),
        footer=f"journal: {result.journal_path}" if result.journal_path else "",
    )
    conventions = breaker_conventions(result) if breakers is None else dict(breakers)
    return render_page(
        "chaos.html.j2",
        page=page,
        result=result,
        description=experiment.description,
        replay=result.replay_command,
        checks=assertion_rows(result),
        figures=timeline_figures(result, conventions),
        has_breaker_convention=bool(conventions),
        traffic=request_counts(result.traffic),
        faults=_fault_rows(result),
        origin=result.started_at,
    )


def write_html_report(
    result: ExperimentResult,
    directory: Path,
    *,
    breakers: Mapping[str, BreakerConvention] | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{journal_stem(result)}.html"
    path.write_text(render_html(result, breakers=breakers), encoding="utf-8")
    return path


def breaker_conventions(result: ExperimentResult) -> dict[str, BreakerConvention]:
    """Per calling service, the breaker convention the run recorded from its topology."""
    recorded = result.system.get("breakers") or {}
    return {service: BreakerConvention.model_validate(c) for service, c in recorded.items()}


# --- the figures ------------------------------------------------------------------------


def timeline_figures(
    result: ExperimentResult, breakers: Mapping[str, BreakerConvention]
) -> list[Figure]:
    """The whole run, from its start to its end, on one time axis in four plots.

    The axis counts seconds from the method's start, as the assertions, the run log and
    the terminal do ("decided at +7.3s"); the steady-state checks before it are below 0.
    """
    from harness.report import plots  # late: matplotlib is slow to import

    origin = _origin(result)
    start = min(0.0, result.started_at - origin) if result.started_at else 0.0
    decided = [a.resolved_at for a in result.assertions if a.resolved_at is not None]
    end = max(result.ended_at - origin, *(t + 0.5 for t in decided), 1.0)  # every diamond shows
    bands = _fault_bands(result, origin)
    xlabel = TIME_AXIS if start < 0 else "seconds since the method started"
    markers = [plots.Marker("method starts", 0.0)] if start < 0 else []
    figures = []
    buckets = _traffic_buckets(result, origin)
    if buckets:
        figures.append(
            Figure(
                "traffic",
                plots.outcome_bars(
                    buckets,
                    title="Traffic (requests per second, ok vs not ok)",
                    markers=markers,
                    xlabel=xlabel,
                    bands=bands,
                    duration=end,
                    start=start,
                ),
            )
        )
        figures.append(
            Figure(
                "latency",
                plots.line_plot(
                    _latency_lines(result, origin),
                    title="Latency of the traffic's requests (per second)",
                    ylabel="ms",
                    markers=markers,
                    xlabel=xlabel,
                    bands=bands,
                    duration=end,
                    start=start,
                ),
            )
        )
    series, names = _breaker_series(result, breakers, origin)
    lanes = plots.breaker_lanes(
        series, state_names=names, xlabel=xlabel, bands=bands, duration=end, start=start
    )
    if lanes is not None:
        figures.append(Figure("breaker state", lanes))
    windows = plots.window_lanes(
        _assertion_windows(result, origin),
        title="Assertion windows (diamond: decided)",
        xlabel=xlabel,
        bands=bands,
        duration=end,
        start=start,
    )
    if windows is not None:
        figures.append(Figure("assertion windows", windows))
    return figures


TIME_AXIS = "seconds since the method started (below 0: the steady-state checks)"


def _origin(result: ExperimentResult) -> float:
    """Time 0 of the plots: the method's start (the run's, when the method never began)."""
    return result.method_started_at or result.started_at


def _fault_bands(result: ExperimentResult, origin: float) -> list[Any]:
    from harness.report.plots import Band

    bands = []
    for event in result.fault_events:
        if event.action != "apply" or not event.ok:
            continue
        end = next(
            (
                other.at
                for other in result.fault_events
                if other.fault_index == event.fault_index
                and other.action in ("remove", "rollback")
                and other.at >= event.at
            ),
            result.ended_at,
        )
        label = event.label or event.description
        bands.append(Band(label, event.at - origin, end - origin, index=event.fault_index))
    return bands


def _fault_rows(result: ExperimentResult) -> list[dict[str, Any]]:
    return [
        {
            "offset": event.offset,
            "at": event.at - _origin(result),
            "action": event.action,
            "description": event.description,
            "ok": event.ok,
            "error": event.error or "",
        }
        for event in result.fault_events
    ]


def _traffic_buckets(result: ExperimentResult, origin: float) -> list[tuple[float, int, int]]:
    buckets: dict[int, list[int]] = {}
    for record in result.traffic:
        second = math.floor(record.started_at - origin)
        buckets.setdefault(second, [0, 0])[0 if record.ok else 1] += 1
    return [(float(s), *buckets[s]) for s in sorted(buckets)]  # type: ignore[misc]


def _latency_lines(result: ExperimentResult, origin: float) -> list[Any]:
    from harness.report.plots import Line

    per_second: dict[int, list[float]] = {}
    for record in result.traffic:
        second = math.floor(record.started_at - origin)
        per_second.setdefault(second, []).append(record.latency * 1000.0)
    lines = []
    for q, colour, width in ((0.95, "#ff7f0e", 1.5), (0.5, "#1f77b4", 1.5)):
        points = [(s + 0.5, _quantile(per_second[s], q)) for s in sorted(per_second)]
        lines.append(Line(f"p{q * 100:.0f}", points, colour=colour, width=width))
    return lines


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _breaker_series(
    result: ExperimentResult, breakers: Mapping[str, BreakerConvention], origin: float
) -> tuple[dict[str, list[tuple[float, float]]], dict[float, str]]:
    """Per edge whose breaker ever left its first state (or that an assertion names), its
    state over time, read with the calling service's declared convention."""
    edges = [e.replace(" ", "") for e in result.system.get("edges", [])]
    series: dict[str, list[tuple[float, float]]] = {}
    names: dict[float, str] = {}
    for service, convention in breakers.items():
        names.update({value: name for name, value in convention.states.items()})
        targets = [e.split("->", 1)[1] for e in edges if e.split("->", 1)[0] == service]
        for snapshot in result.metrics.get(service, []):
            for sample in snapshot.get("samples", []):
                if sample["name"] != convention.metric:
                    continue
                for target in targets:
                    wanted = convention.labels_for(service, target)
                    if all(sample["labels"].get(k) == v for k, v in wanted.items()):
                        series.setdefault(f"{service}->{target}", []).append(
                            (snapshot["t"] - origin, float(sample["value"]))
                        )
    # An edge an assertion names gets its lane even when its breaker never moved: that
    # flat lane is the evidence of a breaker that failed to open.
    named = {
        getattr(edge, "name", str(edge))
        for edge in (getattr(a, "breaker", None) for a in result.experiment.assertions)
        if edge is not None
    }
    return (
        {
            edge: sorted(points)
            for edge, points in sorted(series.items())
            if edge in named or len({v for _, v in points}) > 1
        },
        names,
    )


def _assertion_windows(result: ExperimentResult, origin: float) -> list[Any]:
    from harness.report.plots import Window

    method = (result.method_started_at or result.started_at) - origin
    windows = []
    for a in result.assertions:
        span = a.evidence.get("window")
        if isinstance(span, list | tuple) and len(span) == 2 and span[0] is not None:
            start, end = (
                float(span[0]) + method,
                None if span[1] is None else float(span[1]) + method,
            )
        elif a.resolved_at is not None:
            start, end = method, a.resolved_at + method
        else:
            continue
        resolved = None if a.resolved_at is None else a.resolved_at + method
        windows.append(Window(a.name, start, end, a.status, resolved))
    return windows
