"""Run the stages in order, each in its own output folder, and write one report.

Stages named `concurrent` (`[pipeline] concurrent`, `harness run --concurrent`) run at the
same time, each on the system it starts for itself; the others run one by one.
"""

from __future__ import annotations

import json
import platform
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from harness.console import make_console
from harness.pipeline.inputs import StageInputs
from harness.pipeline.junit import write_junit
from harness.pipeline.model import (
    PipelineOptions,
    PipelineResult,
    StageName,
    StageResult,
    replay_options,
)
from harness.pipeline.report import write_report
from harness.pipeline.stages import STAGES, StageContext, StageRunner
from harness.topology import Topology, load_topology

__all__ = ["default_out_dir", "run_pipeline", "versions"]

# The packages whose versions decide what a run does; recorded so a failure can be replayed.
VERSIONED = ("harness", "pact-python", "schemathesis", "hypothesis", "locust", "httpx")


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

    Each stage's input comes from `options`, else the topology's `[pipeline]` table, else
    its default place beside the topology (`StageInputs`); a stage with none is SKIPPED,
    with the reason, and counts neither way. A stage that crashes (bad input, a service
    that does not start) becomes a failed stage with the error, and the next stage still
    runs. Raises only for bad options or topology, before anything starts (ValueError,
    TopologyError); an input declared but missing is such an error. `stages` maps each
    stage name to the function that runs it (the layers' own by default).
    """
    console = console or make_console(stderr=True)
    topology = load_topology(options.topology)
    inputs = StageInputs.resolve(options, topology)
    out_dir = options.out_dir or default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    done: dict[StageName, StageResult] = {}
    names = inputs.stages
    number = {name: index for index, name in enumerate(names, start=1)}

    def run_one(name: StageName) -> StageResult:
        reason = inputs.skip.get(name)
        if reason is not None:
            result = StageResult.skip(name, reason)
        else:
            result = _run_stage(name, stages[name], options, inputs, topology, out_dir, console)
        console.print(
            f"{_VERDICT[result.status]}[/] {name}: {escape(result.headline)} "
            f"({result.duration:.0f} s)",
            highlight=False,
        )
        for label, path in result.reports:
            console.print(f"  {label}: {path}", highlight=False, markup=False)
        return result

    for step in inputs.steps():
        shown = " + ".join(f"{number[name]}/{len(names)}: {name}" for name in step)
        console.print(Rule(f"[bold]stage{'s' if len(step) > 1 else ''} {shown}"))
        for name, result in zip(step, _at_once(run_one, step), strict=True):
            done[name] = result
    results = [done[name] for name in names]
    run = PipelineResult(
        stages=results,
        seed=inputs.seed,
        topology=options.topology,
        out_dir=out_dir,
        started_at=started,
        ended_at=time.time(),
        versions=versions(),
        replay_options=replay_options(options),
    )
    run.summary_path = out_dir / "summary.json"
    run.report_path = out_dir / "report.html"
    if options.junit_path is not None:
        run.junit_path = write_junit(results, options.junit_path, name="harness run")
    run.summary_path.write_text(json.dumps(run.to_dict(), indent=2) + "\n")
    write_report(run, run.report_path)
    return run


def _at_once(
    run_one: Callable[[StageName], StageResult], step: list[StageName]
) -> list[StageResult]:
    """Run the stages of `step` at the same time: the first in this thread (it keeps Ctrl-C
    and SIGTERM handling), the others in threads; results in `step`'s order."""
    if len(step) == 1:
        return [run_one(step[0])]
    with ThreadPoolExecutor(max_workers=len(step) - 1, thread_name_prefix="stage") as pool:
        others = [pool.submit(run_one, name) for name in step[1:]]
        first = run_one(step[0])
        return [first, *(future.result() for future in others)]


_VERDICT = {"passed": "[green]PASS", "failed": "[red]FAIL", "skipped": "[yellow]SKIPPED"}


def _run_stage(
    name: StageName,
    runner: StageRunner,
    options: PipelineOptions,
    inputs: StageInputs,
    topology: Topology,
    out_dir: Path,
    console: Console,
) -> StageResult:
    stage_dir = out_dir / name
    stage_dir.mkdir(exist_ok=True)
    ctx = StageContext(
        options=options, inputs=inputs, topology=topology, out_dir=stage_dir, console=console
    )
    stage_started = time.monotonic()
    try:
        result = runner(ctx)
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
    return result
