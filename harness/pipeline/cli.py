"""`harness run`: the whole pipeline against one topology, one verdict, one report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.command_options import (
    JUnitOption,
    OutOption,
    QuietOption,
    SeedOption,
    TopologyOption,
    VerboseOption,
    progress_console,
    resolve_topology,
)
from harness.console import make_console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from harness.pipeline.model import PipelineResult, StageName

__all__ = ["register", "run"]

EXIT_FAILED = 1
EXIT_USAGE = 2
FAILED_SHOWN = 20  # failed checks printed per stage; the report and JUnit have them all
_VERDICT = {"passed": "[green]PASS", "failed": "[red]FAIL", "skipped": "[yellow]SKIPPED"}


def _parse_stage_list(value: str | None, option: str) -> list[StageName] | None:
    from harness.pipeline.model import parse_stages

    if not value:
        return None
    try:
        return parse_stages(part.strip() for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _verdict_table(result: PipelineResult) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="harness run", title_justify="left")
    table.add_column("stage")
    table.add_column("verdict")
    table.add_column("result")
    table.add_column("time", justify="right")
    for stage in result.stages:
        table.add_row(
            stage.name, _VERDICT[stage.status], escape(stage.headline), f"{stage.duration:.0f} s"
        )
    return table


def _print_failed_checks(result: PipelineResult, console: Console) -> None:
    """Every failed check, named with its first mismatch (the report has the rest)."""
    for stage in result.stages:
        failed = [c for c in stage.checks if not c.passed and c.skipped is None]
        for check in failed[:FAILED_SHOWN]:
            where = f"{check.group}: " if check.group else ""
            first = next((line for line in check.detail.splitlines() if line.strip()), "")
            console.print(
                f"FAIL {stage.name} {where}{check.name}: {first}",
                style="red",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        if len(failed) > FAILED_SHOWN:
            console.print(
                f"  ... and {len(failed) - FAILED_SHOWN} more failed {stage.name} checks "
                "in the report",
                markup=False,
            )


def run(
    topology: TopologyOption = None,
    only: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated stages to run: contracts,fuzz,chaos,explore,load "
            "(default: \\[pipeline] stages, else all but explore).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = None,
    out: OutOption = None,
    junit_xml: JUnitOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    max_examples: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Fuzzing budget per operation (the fuzz stage's default).",
            show_default=False,
        ),
    ] = None,
    chaos: Annotated[
        list[Path] | None,
        typer.Option(
            help="Experiment files or directories (default: \\[pipeline] experiments, else "
            "chaos/ beside the topology).",
            show_default=False,
        ),
    ] = None,
    load_profile: Annotated[
        Path | None,
        typer.Option(
            help="Load profile (default: \\[pipeline] load_profile, else load/smoke.yaml "
            "beside the topology).",
            show_default=False,
        ),
    ] = None,
    pacts: Annotated[
        Path | None,
        typer.Option(
            help="Folder of pact files (default: \\[pipeline] pacts, else pacts/ beside the "
            "topology).",
            show_default=False,
        ),
    ] = None,
    concurrent: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated stages to run at the same time, each on its own system, "
            "e.g. fuzz,chaos (default: \\[pipeline] concurrent, else one by one).",
            show_default=False,
        ),
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Chaos experiments at once, a system per worker (default: \\[pipeline] "
            "chaos_parallel, else 1).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Bring the system up and run contracts, fuzzing, chaos and load; one verdict, one report.

    What each stage runs on comes from the options, else the topology's \\[pipeline] table,
    else its default place beside the topology; a stage with nothing to run is SKIPPED and
    says why. Exits 0 only when every stage that ran passed; 1 when a stage failed; 2 for
    bad input.
    """
    from harness.pipeline.model import PipelineOptions
    from harness.pipeline.run import run_pipeline
    from harness.topology import TopologyError

    console = progress_console(quiet=quiet, verbose=verbose)
    errors = make_console(stderr=True, highlight=False)
    stages = _parse_stage_list(only, "--only")
    options = PipelineOptions(
        topology=resolve_topology(topology, command="harness run"),
        only=stages,
        seed=seed,
        out_dir=out,
        pact_dir=pacts,
        chaos_paths=tuple(chaos or ()),
        load_profile=load_profile,
        fuzz_max_examples=max_examples,
        junit_path=junit_xml,
        chaos_parallel=parallel,
        concurrent=_parse_stage_list(concurrent, "--concurrent"),
    )
    try:
        result = run_pipeline(options, console=console)
    except (TopologyError, ValueError, FileNotFoundError) as exc:
        errors.print(f"harness run: {exc}", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    console.print(_verdict_table(result))
    _print_failed_checks(result, errors)
    if all(stage.skipped is not None for stage in result.stages):
        errors.print("nothing ran: every stage was skipped (see why above)", style="red")
    verdict = "[bold green]PASS" if result.passed else "[bold red]FAIL"
    errors.print(f"{verdict}[/] in {result.duration:.0f} s; report: {result.report_path}")
    if result.junit_path is not None:
        errors.print(f"JUnit XML: {result.junit_path}")
    if not result.passed:
        errors.print(f"replay: {result.replay_command}", markup=False)
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add `run` to the `harness` command."""
    app.command(name="run")(run)
