"""`harness chaos run FILE... [-t FILE] [--seed N] [--out DIR] [--junit-xml PATH] [-q|-v]
[--parallel N]` and `harness chaos validate FILE...`.

Experiments needing the same service settings (`env`) share one system, started from the
topology with those settings added; with `--parallel N`, N experiments run at once, each on
a system of its own. Each gets a journal and an HTML report. The exit code
is 0 when every experiment passed, 1 when any failed or was aborted, 2 for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.command_options import (
    JUnitOption,
    QuietOption,
    TopologyOption,
    VerboseOption,
    command_group,
    progress_console,
    resolve_topology,
)
from harness.console import make_console

if TYPE_CHECKING:
    from rich.console import Console

    from harness.chaos.model import Experiment
    from harness.chaos.result import ExperimentResult
    from harness.topology import Topology

__all__ = ["app"]

app = command_group(
    name="chaos",
    help="Chaos experiments: faults on edges and processes, assertions on what must happen.",
)

EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_OUT = Path("runs/chaos")


def _load_all(paths: list[Path], console: Console) -> list[Experiment]:
    from harness.chaos.loader import ExperimentError, load_experiment
    from harness.chaos.suite import expand_paths

    experiments, problems = [], []
    for path in expand_paths(paths):
        try:
            experiments.append(load_experiment(path))
        except ExperimentError as exc:
            problems.append(str(exc))
    for problem in problems:
        console.print(problem, style="red", highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(EXIT_USAGE)
    if not experiments:
        console.print("no experiment files given", style="red")
        raise typer.Exit(EXIT_USAGE)
    return experiments


def _topology_experiments(topology: Topology) -> list[Path]:
    """The experiments `harness run` would run on `topology` (ValueError: none)."""
    from harness.pipeline import PipelineOptions
    from harness.pipeline.inputs import StageInputs

    assert topology.path is not None
    inputs = StageInputs.resolve(PipelineOptions(topology=topology.path, only=["chaos"]), topology)
    reason = inputs.skip.get("chaos")
    if reason is not None:
        raise ValueError(f"nothing to run: {reason}; pass experiment FILES")
    return list(inputs.chaos_paths)


def _print_result(console: Console, result: ExperimentResult, *, whole: bool) -> None:
    """The experiment's text report; in parallel runs one line (the whole report of a
    failure), so experiments ending together do not interleave."""
    from harness.chaos.report import render_text

    if whole or not result.passed:
        console.print(render_text(result), highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(
            f"  PASS {result.experiment.title} ({result.duration:.0f} s)",
            style="green",
            highlight=False,
            markup=False,
        )


@app.command()
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="experiment files or directories (default: the topology's [pipeline] "
            "experiments, else chaos/ beside it)",
            show_default=False,
        ),
    ] = None,
    topology: Annotated[
        Path | None,
        typer.Option(
            "--topology",
            "-t",
            help="check edges, services and conventions against this system.toml "
            "(default: $HARNESS_TOPOLOGY, else ./system.toml)",
        ),
    ] = None,
) -> None:
    """Parse experiment files and check them against the topology, without running anything."""
    from harness.chaos.loader import ExperimentError, check_against_topology
    from harness.topology import TopologyError, find_topology, load_topology

    console = make_console(stderr=True)
    try:
        system_topology = load_topology(find_topology(topology))
        paths = list(files) if files else _topology_experiments(system_topology)
    except (TopologyError, ValueError) as exc:
        console.print(str(exc), style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    experiments = _load_all(paths, console)
    problems = []
    for experiment in experiments:
        try:
            check_against_topology(experiment, system_topology)
        except ExperimentError as exc:
            problems.append(str(exc))
            continue
        console.print(f"ok  {experiment.source}: {experiment.title}", highlight=False)
    for problem in problems:
        console.print(problem, style="red", highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(EXIT_USAGE)


@app.command()
def run(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="experiment files or directories (default: the topology's \\[pipeline] "
            "experiments, else chaos/ beside it)",
            show_default=False,
        ),
    ] = None,
    topology: TopologyOption = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of every experiment: the same seed replays it (default: each "
            "experiment's own, else a random one, recorded).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Where journals (JSON) and reports (HTML) go.")
    ] = DEFAULT_OUT,
    junit_xml: JUnitOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    backend: Annotated[str, typer.Option(help="runtime backend: process or attach")] = "process",
    live: Annotated[
        bool | None,
        typer.Option(
            "--live/--no-live", help="rich live view (default: on a terminal)", show_default=False
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option(help="stop an experiment at its first failed assertion")
    ] = False,
    parallel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Experiments at once, a system per worker (default: the topology's "
            "\\[pipeline] chaos_parallel, else 1). Above 1: a line per start and end, no "
            "live view.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run experiments; exit non-zero when any assertion failed."""
    from harness.chaos.loader import ExperimentError, check_against_topology
    from harness.chaos.report import summary_table
    from harness.chaos.suite import run_suite
    from harness.pipeline.junit import write_junit
    from harness.pipeline.stages import chaos_stage
    from harness.runtime import HarnessRuntimeError
    from harness.topology import TopologyError, load_topology

    console = progress_console(quiet=quiet, verbose=verbose)
    errors = make_console(stderr=True, highlight=False)
    topology_path = resolve_topology(topology, command="harness chaos run")
    try:
        system_topology = load_topology(topology_path)
        paths = list(files) if files else _topology_experiments(system_topology)
    except (TopologyError, ValueError) as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    experiments = _load_all(paths, errors)
    try:
        for experiment in experiments:
            check_against_topology(experiment, system_topology)
    except ExperimentError as exc:
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    at_once = parallel if parallel is not None else system_topology.pipeline.chaos_parallel
    try:
        results = run_suite(
            experiments,
            system_topology,
            seed=seed,
            journal_dir=out,
            console=console,
            live=live,
            backend=backend,
            fail_fast=fail_fast,
            on_result=lambda result: _print_result(console, result, whole=at_once <= 1),
            parallel=at_once,
        )
    except HarnessRuntimeError as exc:  # the system did not come up: one line, no traceback
        errors.print(f"error: {exc}", style="red", markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    except ValueError as exc:  # options that cannot go together
        errors.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    console.print(summary_table(results))
    for result in results:
        if result.report_path is not None:
            errors.print(f"report: {result.report_path}", markup=False)
    if junit_xml is not None:
        write_junit([chaos_stage(results)], junit_xml, name="harness chaos")
        errors.print(f"JUnit XML: {junit_xml}", markup=False)
    if not all(result.passed for result in results):
        for result in results:
            if not result.passed:
                errors.print(f"FAIL {result.experiment.title}", style="red", markup=False)
                errors.print(f"  replay: {result.replay_command}", markup=False)
        raise typer.Exit(EXIT_FAILED)


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="A Chaos Toolkit experiment (JSON or YAML).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the experiment YAML here (default: stdout).",
            show_default=False,
        ),
    ] = None,
    topology: TopologyOption = None,
) -> None:
    """Turn a Chaos Toolkit experiment (chaostoolkit-toxiproxy actions, HTTP probes) into
    a harness experiment; checked against the topology when one is found."""
    from harness.chaos.ctk_import import CtkImportError, import_ctk_file
    from harness.topology import TopologyError, find_topology, load_topology

    errors = make_console(stderr=True, highlight=False)
    try:
        system = load_topology(find_topology(topology)) if topology or _has_topology() else None
        imported = import_ctk_file(source, topology=system)
    except (TopologyError, CtkImportError) as exc:
        errors.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    for warning in imported.warnings:
        errors.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)
    text = imported.to_yaml(source=str(source))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    errors.print(f"wrote {out}: {imported.experiment.title}", markup=False, soft_wrap=True)


def _has_topology() -> bool:
    from harness.topology import TopologyError, find_topology

    try:
        find_topology(None)
    except TopologyError:
        return False
    return True
