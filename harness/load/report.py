"""The load report: one self-contained HTML page in the shared report stack
(`harness.report`: inline CSS and SVG plots, no network).

Order of the page: the verdict (each check with its figure, limit and miss), headline
figures and the benchmark, the fault schedule as applied, plots over time, then the
per-request table and the errors.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.load import plots
from harness.load.profile import LoadProfile
from harness.load.results import TOTAL, LocustResult, request_key
from harness.load.summary import LoadSummary
from harness.load.verdict import Check
from harness.observe.timeline import Timeline
from harness.report import CheckRow, Figure, Page, render_page

__all__ = ["check_rows", "render_report", "write_report"]


def write_report(
    path: Path,
    *,
    summary: LoadSummary,
    result: LocustResult,
    timeline: Timeline,
    profile: LoadProfile,
) -> Path:
    path.write_text(
        render_report(summary=summary, result=result, timeline=timeline, profile=profile),
        encoding="utf-8",
    )
    return path


def render_report(
    *,
    summary: LoadSummary,
    result: LocustResult,
    timeline: Timeline,
    profile: LoadProfile,
) -> str:
    """The page: checks, figures (breaker lanes read through the timeline's breaker
    conventions), faults and requests."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.started_at))
    passed = sum(1 for check in summary.checks if check.passed)
    verdict = f"{passed} of {len(summary.checks)} checks passed"
    if not summary.passed:
        verdict += " · failed: " + "; ".join(c.name for c in summary.failed_checks)
    page = Page(
        title=f"Load report: {summary.profile}",
        status="passed" if summary.passed else "failed",
        summary=f"{verdict} · exit code {summary.exit_code}",
        meta=(
            profile.description or profile.name,
            f"profile {summary.source}",
            f"started {started}",
            f"{summary.ended_at - summary.started_at:.0f} s of load",
            f"{summary.workers} local workers" if summary.workers else "standalone Locust",
        ),
    )
    return render_page(
        "load.html.j2",
        page=page,
        s=summary,
        checks=check_rows(summary.checks),
        interval=result.interval,
        figures=_plots(summary, result, timeline, profile),
        ms=_ms,
        key=request_key,
        basename=lambda path: Path(path).name,
    )


def check_rows(checks: list[Check]) -> list[CheckRow]:
    """The verdict's checks as rows of the shared checks table (the one adapter to change
    when the check type changes)."""
    rows = []
    for c in checks:
        limit = ""
        if c.limit is not None:
            limit = f"{c.comparison or ''} {_format_figure(c.limit, c)}".strip()
        rows.append(
            CheckRow(
                name=c.name,
                status="passed" if c.passed else "failed",
                kind=c.kind,
                observed=_format_figure(c.observed, c),
                limit=limit,
                detail=c.detail,  # a failed SLO's says by how much it missed
            )
        )
    return rows


def _plots(
    summary: LoadSummary,
    result: LocustResult,
    timeline: Timeline,
    profile: LoadProfile,
) -> list[Figure]:
    total_slo = profile.slos.get(TOTAL)
    drawn = [
        Figure(
            "latency",
            plots.latency_plot(
                result, summary.faults, p95_limit_ms=total_slo.p95_ms if total_slo else None
            ),
        ),
        Figure("throughput", plots.throughput_plot(result, summary.faults)),
        Figure("error rate", plots.error_rate_plot(result, summary.faults)),
    ]
    breakers = plots.breaker_plot(
        timeline,
        summary.faults,
        origin=result.started_at,
        duration=result.duration,
    )
    if breakers is not None:
        drawn.append(Figure("breaker state", breakers))
    drawn.append(Figure("latency per request", plots.request_latency_plot(result, summary.faults)))
    return drawn


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _format_figure(value: float | None, check: Check) -> str:
    if value is None:
        return ""
    if check.unit == "ms":
        return f"{value:,.0f} ms"
    if check.unit == "s":
        return f"{value:.1f} s"
    if check.unit == "req/s":
        return f"{value:,.1f} req/s"
    if "failure ratio" in check.name:
        return f"{value:.2%}"
    return f"{value:,.0f}"
