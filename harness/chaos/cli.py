"""`harness chaos run FILE... [--topology FILE] [--seed N] [--journal-dir DIR]` and
`harness chaos validate FILE...`.

Experiments needing the same service settings (`env`) share one system, started from the
topology with those settings added; each gets a journal and an HTML report. The exit code
is 0 when every experiment passed, 1 when any failed or was aborted, 2 for bad input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.chaos.loader import ExperimentError, check_against_topology, load_experiment
from harness.chaos.model import Experiment
from harness.chaos.report import render_text, summary_table
from harness.chaos.suite import expand_paths, run_suite

__all__ = ["app"]

app = typer.Typer(
    name="chaos",
    help="Chaos experiments: faults on edges and processes, assertions on what must happen.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_TOPOLOGY = Path("target-system/system.toml")


def _load_all(paths: list[Path], console: Console) -> list[Experiment]:
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


def _topology_path(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get("HARNESS_TOPOLOGY")
    return Path(env) if env else DEFAULT_TOPOLOGY


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="experiment files or directories")],
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
    from harness.topology import TopologyError, find_topology, load_topology

    console = Console(stderr=True)
    experiments = _load_all(files, console)
    try:
        system_topology = load_topology(find_topology(topology))
    except TopologyError as exc:
        console.print(str(exc), style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_USAGE) from None
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
    files: Annotated[list[Path], typer.Argument(help="experiment files or directories")],
    topology: Annotated[
        Path | None,
        typer.Option(
            help="system.toml to start ($HARNESS_TOPOLOGY, else target-system/system.toml)"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed for every experiment (replay)")] = None,
    journal_dir: Annotated[
        Path, typer.Option(help="where journals (JSON) and reports (HTML) go")
    ] = Path("runs/chaos"),
    backend: Annotated[str, typer.Option(help="runtime backend: process or attach")] = "process",
    live: Annotated[
        bool | None,
        typer.Option("--live/--no-live", help="rich live view (default: on a terminal)"),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option(help="stop an experiment at its first failed assertion")
    ] = False,
) -> None:
    """Run experiments; exit non-zero when any assertion failed."""
    from harness.runtime import HarnessRuntimeError
    from harness.topology import TopologyError, load_topology

    console = Console(stderr=True)
    experiments = _load_all(files, console)
    try:
        system_topology = load_topology(_topology_path(topology))
    except TopologyError as exc:
        console.print(str(exc), style="red", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        for experiment in experiments:
            check_against_topology(experiment, system_topology)
    except ExperimentError as exc:
        console.print(str(exc), style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        results = run_suite(
            experiments,
            system_topology,
            seed=seed,
            journal_dir=journal_dir,
            console=console,
            live=live,
            backend=backend,
            fail_fast=fail_fast,
            on_result=lambda result: console.print(
                render_text(result), highlight=False, markup=False, soft_wrap=True
            ),
        )
    except HarnessRuntimeError as exc:  # the system did not come up: one line, no traceback
        console.print(f"error: {exc}", style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    console.print(summary_table(results))
    if not all(result.passed for result in results):
        raise typer.Exit(EXIT_FAILED)
