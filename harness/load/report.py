"""The load report: one self-contained HTML file (inline CSS and SVG plots, no network).

Order of the page: the verdict (each check with its figure, limit and miss), headline
figures and the benchmark, the fault schedule as applied, plots over time, then the
per-request table and the errors.
"""

from __future__ import annotations

import time
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.load import plots
from harness.load.profile import LoadProfile
from harness.load.results import TOTAL, LocustResult, request_key
from harness.load.summary import LoadSummary
from harness.load.verdict import Check
from harness.observe.timeline import Timeline

__all__ = ["render_report", "write_report"]

_ENV = Environment(
    loader=PackageLoader("harness.load", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


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
    *, summary: LoadSummary, result: LocustResult, timeline: Timeline, profile: LoadProfile
) -> str:
    return _ENV.get_template("report.html.j2").render(
        s=summary,
        description=profile.description or profile.name,
        started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.started_at)),
        passed_count=sum(1 for check in summary.checks if check.passed),
        interval=result.interval,
        plots=_plots(summary, result, timeline, profile),
        fmt=_format_figure,
        ms=_ms,
        key=request_key,
    )


def _plots(
    summary: LoadSummary, result: LocustResult, timeline: Timeline, profile: LoadProfile
) -> list[tuple[str, str]]:
    total_slo = profile.slos.get(TOTAL)
    drawn = [
        (
            "latency",
            plots.latency_plot(
                result, summary.faults, p95_limit_ms=total_slo.p95_ms if total_slo else None
            ),
        ),
        ("throughput", plots.throughput_plot(result, summary.faults)),
        ("error rate", plots.error_rate_plot(result, summary.faults)),
    ]
    breakers = plots.breaker_plot(
        timeline, summary.faults, origin=result.started_at, duration=result.duration
    )
    if breakers is not None:
        drawn.append(("breaker state", breakers))
    drawn.append(("latency per request", plots.request_latency_plot(result, summary.faults)))
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
