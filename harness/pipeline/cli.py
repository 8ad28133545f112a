"""`harness run`: the whole pipeline against one topology, one verdict, one report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.pipeline.model import (
    STAGE_NAMES,
    PipelineOptions,
    PipelineResult,
    StageName,
    parse_stages,
)
from harness.pipeline.run import run_pipeline
from harness.topology import TopologyError

__all__ = ["register", "run"]

EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_TOPOLOGY = Path("target-system/system.toml")


def _parse_only(value: str | None) -> list[StageName]:
    if not value:
        return list(STAGE_NAMES)
    try:
        return parse_stages(part.strip() for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--only") from None


def _verdict_table(result: PipelineResult) -> Table:
    table = Table(title="harness run", title_justify="left")
    table.add_column("stage")
    table.add_column("verdict")
    table.add_column("result")
    table.add_column("time", justify="right")
    for stage in result.stages:
        verdict = "[green]PASS" if stage.passed else "[red]FAIL"
        table.add_row(stage.name, verdict, stage.headline, f"{stage.duration:.0f} s")
    return table


def run(
    topology: Annotated[
        Path | None,
        typer.Option(
            "--topology",
            "-t",
            help="system.toml to test ($HARNESS_TOPOLOGY, else target-system/system.toml)",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(help="stages: contracts,fuzz,chaos,explore,load (all but explore)"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="one seed for fuzzing and chaos (replays a run)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default runs/<time>)")] = None,
    max_examples: Annotated[
        int | None, typer.Option(help="fuzzing budget per operation (fuzz layer's default)")
    ] = None,
    chaos: Annotated[
        list[Path] | None, typer.Option(help="experiment files or directories (chaos/)")
    ] = None,
    load_profile: Annotated[Path, typer.Option(help="load profile for the load stage")] = Path(
        "load/profiles/smoke.yaml"
    ),
    pacts: Annotated[Path, typer.Option(help="pact files to verify")] = Path("contracts/pacts"),
) -> None:
    """Bring the system up and run contracts, fuzzing, chaos and load; one verdict, one report.

    Exits 0 only when every stage passed; 1 when a stage failed; 2 for bad input.
    """
    console = Console(stderr=True)
    topology_path = topology or Path(os.environ.get("HARNESS_TOPOLOGY", DEFAULT_TOPOLOGY))
    options = PipelineOptions(
        topology=topology_path,
        only=_parse_only(only),
        seed=seed,
        out_dir=out,
        pact_dir=pacts,
        chaos_paths=tuple(chaos) if chaos else (Path("chaos"),),
        load_profile=load_profile,
        fuzz_max_examples=max_examples,
    )
    try:
        result = run_pipeline(options, console=console)
    except (TopologyError, ValueError, FileNotFoundError) as exc:
        console.print(f"harness run: {exc}", style="red", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    console.print(_verdict_table(result))
    verdict = "[bold green]PASS" if result.passed else "[bold red]FAIL"
    console.print(f"{verdict}[/] in {result.duration:.0f} s; report: {result.report_path}")
    if not result.passed:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add `run` to the `harness` command."""
    app.command(name="run")(run)
