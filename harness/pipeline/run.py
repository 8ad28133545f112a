"""Run the stages in order, each in its own output folder, and write one report."""

from __future__ import annotations

import json
import platform
import time
import traceback
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from harness.pipeline.model import PipelineOptions, PipelineResult, StageName, StageResult
from harness.pipeline.report import write_report
from harness.pipeline.stages import STAGES, StageContext, StageRunner
from harness.topology import load_topology

__all__ = ["default_out_dir", "run_pipeline", "versions"]

# The packages whose versions decide what a run does; recorded so a failure can be replayed.
VERSIONED = ("harness", "shop", "pact-python", "schemathesis", "hypothesis", "locust", "httpx")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def default_out_dir() -> Path:
    return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def run_pipeline(
    options: PipelineOptions,
    *,
    console: Console | None = None,
    stages: Mapping[StageName, StageRunner] = STAGES,
) -> PipelineResult:
    """Run the selected stages against `options.topology`; never raises for a failing stage.

    A stage that crashes (bad input, a service that does not start) becomes a failed stage
    with the error, and the next stage still runs. Raises only for bad options or topology,
    before anything starts (ValueError, TopologyError). `stages` maps each stage name to
    the function that runs it (the layers' own by default).
    """
    console = console or Console(stderr=True)
    names = options.stages()
    topology = load_topology(options.topology)
    out_dir = options.out_dir or default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: list[StageResult] = []
    for index, name in enumerate(names, start=1):
        console.print(Rule(f"[bold]stage {index}/{len(names)}: {name}"))
        stage_dir = out_dir / name
        stage_dir.mkdir(exist_ok=True)
        ctx = StageContext(options=options, topology=topology, out_dir=stage_dir, console=console)
        stage_started = time.monotonic()
        try:
            result = stages[name](ctx)
        except Exception as exc:  # a crashed stage is a failed stage; the run goes on
            (stage_dir / "error.txt").write_text(traceback.format_exc())
            result = StageResult(
                name=name,
                passed=False,
                headline=f"could not run: {type(exc).__name__}: {exc}",
                error=f"{type(exc).__name__}: {exc}",
                reports=[("traceback", stage_dir / "error.txt")],
            )
        result.duration = time.monotonic() - stage_started
        verdict = "[green]PASS" if result.passed else "[red]FAIL"
        console.print(f"{verdict}[/] {name}: {result.headline} ({result.duration:.0f} s)")
        for label, path in result.reports:
            console.print(f"  {label}: {path}", highlight=False, markup=False)
        results.append(result)
    run = PipelineResult(
        stages=results,
        seed=options.seed,
        topology=options.topology,
        out_dir=out_dir,
        started_at=started,
        ended_at=time.time(),
        versions=versions(),
    )
    run.summary_path = out_dir / "summary.json"
    run.report_path = out_dir / "report.html"
    run.summary_path.write_text(json.dumps(run.to_dict(), indent=2) + "\n")
    write_report(run, run.report_path)
    return run
