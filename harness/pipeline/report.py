"""The combined report: one self-contained page in the shared stack (`harness.report`),
verdict first, a section per stage with its checks and links to each stage's own pages.

A stage report written as JSON that has a page in the stack (the contracts run's
`contracts.json`) gets that page written beside it, and the link opens the page."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from harness.pipeline.model import PipelineResult, StageCheck, StageResult
from harness.report import CheckRow, Page, render_page

__all__ = ["check_rows", "render_report", "write_report"]


@dataclass(frozen=True, slots=True)
class _Stage:
    name: str
    status: str
    headline: str
    duration: float
    error: str | None
    reports: list[tuple[str, str]]
    checks: list[CheckRow]


def check_rows(checks: list[StageCheck], base: Path) -> list[CheckRow]:
    """A stage's checks as rows of the shared checks table, failures first (the one adapter
    to change when the check type changes)."""
    ordered = sorted(checks, key=lambda c: (c.passed, c.skipped is not None))
    return [
        CheckRow(
            name=f"{c.group}: {c.name}" if c.group else c.name,
            status="skipped" if c.skipped is not None else ("passed" if c.passed else "failed"),
            detail=c.skipped or c.detail,
            link=_href(c.link, base) if c.link else None,
        )
        for c in ordered
    ]


def _href(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())


def _status(stage: StageResult) -> str:
    return stage.status


def _stage(stage: StageResult, base: Path) -> _Stage:
    return _Stage(
        name=stage.name,
        status=_status(stage),
        headline=stage.headline,
        duration=stage.duration,
        error=stage.error,
        reports=[(label, _href(path, base)) for label, path in stage.reports],
        checks=check_rows(stage.checks, base),
    )


def render_report(result: PipelineResult) -> str:
    base = result.out_dir
    passed = sum(1 for s in result.stages if s.passed)
    seed = "each stage's default" if result.seed is None else str(result.seed)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result.started_at))
    replay = result.replay_command
    page = Page(
        title="Resilience report",
        status="passed" if result.passed else "failed",
        summary=f"{passed} of {len(result.stages)} stages passed",
        meta=(str(result.topology), f"started {started}", f"{result.duration:.0f} s"),
        footer=f"JSON summary: {result.summary_path}" if result.summary_path else "",
    )
    return render_page(
        "pipeline.html.j2",
        page=page,
        stages=[_stage(stage, base) for stage in result.stages],
        seed=seed,
        replay=replay,
        versions=", ".join(f"{k} {v}" for k, v in result.versions.items()),
    )


def write_report(result: PipelineResult, path: Path) -> list[Path]:
    """Write the combined page at `path` (and the pages of stage reports written as JSON);
    return every page written, the combined one first."""
    from harness.report.contracts import write_contracts_page

    written: list[Path] = []
    for stage in result.stages:
        reports: list[tuple[str, Path]] = []
        for label, report in stage.reports:
            if stage.name == "contracts" and report.suffix == ".json" and report.exists():
                page = write_contracts_page(report)
                reports += [(label, page), (f"{label} (JSON)", report)]
                written.append(page)
            else:
                reports.append((label, report))
        stage.reports = reports
    path.write_text(render_report(result), encoding="utf-8")
    return [path, *written]
