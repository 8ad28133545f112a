"""Run the stages in order, each in its own output folder, and write one report.

Stages named `concurrent` (`[pipeline] concurrent`, `harness run --concurrent`) run at the
same time, each on the system it starts for itself; the others run one by one. Beside a stage
that measures time (chaos, explore, load), the stages that judge only answers (contracts,
fuzz) run at a lower CPU priority, they and the systems they start: they take the cores the
timing stages leave idle instead of slowing the answers those stages time.
"""

from __future__ import annotations

import json
import os
import platform
import threading
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


TIMED_STAGES: frozenset[StageName] = frozenset({"chaos", "explore", "load"})
"""Stages whose checks measure time (latencies, how soon a breaker opens); the others judge
answers only, and yield the CPU to these when they run beside them."""
YIELDING_NICENESS = 10  # a CPU share of about a tenth against a nice-0 process that wants it


def _at_once(
    run_one: Callable[[StageName], StageResult], step: list[StageName]
) -> list[StageResult]:
    """Run the stages of `step` at the same time, results in `step`'s order.

    A timed stage, if the step has one, runs in this thread (it keeps Ctrl-C and SIGTERM
    handling), the others in threads; beside a timed stage, an untimed one lowers its
    thread's CPU priority first (see `yield_cpu`)."""
    if len(step) == 1:
        return [run_one(step[0])]
    timed = [name for name in step if name in TIMED_STAGES]
    first = timed[0] if timed else step[0]
    rest = [name for name in step if name != first]

    def beside(name: StageName) -> StageResult:
        if timed and name not in TIMED_STAGES:
            yield_cpu()
        return run_one(name)

    with ThreadPoolExecutor(max_workers=len(rest), thread_name_prefix="stage") as pool:
        others = {name: pool.submit(beside, name) for name in rest}
        done = {first: run_one(first)}
        done.update((name, future.result()) for name, future in others.items())
    return [done[name] for name in step]


def yield_cpu() -> bool:
    """Lower the calling thread's CPU priority to `YIELDING_NICENESS` (Linux keeps a nice
    value per thread, and the processes the thread starts inherit it: the stage's system
    too). False where the platform cannot (the stage then runs at normal priority)."""
    try:
        thread = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, max(current, YIELDING_NICENESS))
    except (AttributeError, OSError):
        return False
    return True


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
