"""`harness load ...`: run a load profile (or check one) from the command line.

Exit codes: 0 every check passed; 1 an SLO, assertion or invariant failed; 2 bad input
(profile, topology); 3 the run itself broke (Locust did not start, no results).
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
)
from harness.console import make_console

if TYPE_CHECKING:
    from rich.console import Console

    from harness.load.summary import LoadSummary

__all__ = ["app", "print_summary"]

EXIT_BAD_INPUT = 2

app = command_group(
    name="load",
    help="Load runs with Locust: SLO gates, fault schedules, an HTML report.",
)


def _topology_profile(topology: Path) -> Path:
    """The load profile `harness run` would run on `topology` (ValueError: none)."""
    from harness.pipeline import PipelineOptions
    from harness.pipeline.inputs import StageInputs
    from harness.topology import load_topology

    inputs = StageInputs.resolve(
        PipelineOptions(topology=topology, only=["load"]), load_topology(topology)
    )
    if inputs.load_profile is None:
        raise ValueError(f"nothing to run: {inputs.skip.get('load')}; pass a PROFILE")
    return inputs.load_profile


@app.command("run")
def run_command(
    profile: Annotated[
        Path | None,
        typer.Argument(
            help="Load profile (YAML), e.g. load/profiles/smoke.yaml (default: the topology's "
            "\\[pipeline] load_profile, else load/smoke.yaml beside it).",
            show_default=False,
        ),
    ] = None,
    topology: TopologyOption = None,
    users: Annotated[
        int | None,
        typer.Option(
            "--users", "-u", min=1, help="Users, instead of the profile's.", show_default=False
        ),
    ] = None,
    spawn_rate: Annotated[
        float | None,
        typer.Option(
            "--spawn-rate",
            "-r",
            min=0.001,
            help="Users started per second, instead of the profile's.",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            min=0.001,
            help="Seconds of load, instead of the profile's.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seeds `random` in every Locust process (the locustfile's choices).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output directory (default: runs/load/<profile>-<time>).", show_default=False
        ),
    ] = None,
    junit_xml: JUnitOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    workers: Annotated[
        int, typer.Option(min=0, help="Local Locust worker processes (0: one standalone process).")
    ] = 0,
    remote_workers: Annotated[
        int, typer.Option(min=0, help="Workers on other machines the master waits for.")
    ] = 0,
    master_bind_host: Annotated[
        str, typer.Option(help="Interface the master listens on for workers.")
    ] = "127.0.0.1",
    master_port: Annotated[int, typer.Option(min=0, help="Master port (0: a free one).")] = 0,
) -> None:
    """Start the system, run the profile's load and faults, write report.html + summary.json.

    The topology is -t, else the profile's `topology:`, else $HARNESS_TOPOLOGY, else
    ./system.toml. Without a profile, the topology's own is run (as `harness run` finds it).
    """
    from harness.load.profile import load_profile, override
    from harness.load.runner import EXIT_RUN_ERROR, LoadRunError, run_profile
    from harness.pipeline.junit import write_junit
    from harness.pipeline.stages import load_stage
    from harness.topology import TopologyError, find_topology

    console = progress_console(quiet=quiet, verbose=verbose)
    errors = make_console(stderr=True)
    try:
        if profile is None:
            topology = find_topology(topology)
            profile = _topology_profile(topology)
        parsed = override(
            load_profile(profile), users=users, spawn_rate=spawn_rate, duration=duration, seed=seed
        )
        topology_path = topology or parsed.topology or find_topology(None)
        summary = run_profile(
            parsed,
            topology=topology_path,
            out_dir=out,
            workers=workers,
            remote_workers=remote_workers,
            master_bind_host=master_bind_host,
            master_port=master_port,
            console=console,
        )
    except LoadRunError as exc:
        errors.print("[bold red]load run failed:[/] ", end="")
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_RUN_ERROR) from exc
    except KeyboardInterrupt:
        # Everything was already torn down on the way out (faults rolled back, Locust and
        # the system stopped); no report is written for a run cut short.
        errors.print("[yellow]interrupted[/]: faults rolled back, Locust and the system stopped")
        raise typer.Exit(130) from None
    except (ValueError, TopologyError) as exc:  # ProfileError, TopologyError, FaultScheduleError
        errors.print("[bold red]error:[/] ", end="")
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    if junit_xml is not None:
        write_junit([load_stage(summary)], junit_xml, name="harness load")
        errors.print(f"JUnit XML: {junit_xml}", highlight=False)
    if quiet:
        verdict = "[bold green]PASS[/]" if summary.passed else "[bold red]FAIL[/]"
        errors.print(f"{verdict}  report: {summary.report_path}")
        raise typer.Exit(summary.exit_code)
    print_summary(summary, console=make_console())
    raise typer.Exit(summary.exit_code)


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Argument(help="A finished run's output directory.")],
) -> None:
    """Re-render report.html from a finished run's files; the verdict stays the recorded one."""
    from harness.load.runner import LoadRunError, render_saved_report

    console = make_console(stderr=True)
    try:
        path = render_saved_report(out)
    except (LoadRunError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    console.print(f"report: {path}")


@app.command("validate")
def validate_command(
    profiles: Annotated[list[Path], typer.Argument(help="Profiles to check (nothing is started).")],
    topology: Annotated[
        Path | None,
        typer.Option(
            "--topology",
            "-t",
            help="check against this system.toml (default: the profile's `topology`, else "
            "$HARNESS_TOPOLOGY, else ./system.toml)",
        ),
    ] = None,
) -> None:
    """Parse profiles and check them against their topology, without running anything."""
    from harness.load.profile import load_profile
    from harness.load.runner import check_against_its_topology

    console = make_console(stderr=True)
    bad = 0
    for path in profiles:
        try:
            parsed = load_profile(path)
            check_against_its_topology(parsed, topology)
        except ValueError as exc:  # ProfileError, TopologyError: bad input
            bad += 1
            console.print(f"[red]✘[/] {exc}", markup=True, highlight=False)
            continue
        shape = f"{len(parsed.stages)} stages" if parsed.stages else f"{parsed.users} users"
        console.print(
            f"[green]✔[/] {path}: {shape}, {parsed.total_duration:g}s, {len(parsed.slos)} SLOs, "
            f"{len(parsed.faults)} faults, {len(parsed.assertions)} assertions"
        )
    raise typer.Exit(EXIT_BAD_INPUT if bad else 0)


def print_summary(summary: LoadSummary, *, console: Console) -> None:
    """The verdict table, the benchmark figures and where the report is."""
    from rich.table import Table

    table = Table(title=f"load profile {summary.profile}", title_justify="left")
    table.add_column("kind", style="dim")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for check in summary.checks:
        result = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(check.kind, check.name, result, check.detail)
    console.print(table)
    if summary.total is not None:
        total = summary.total
        p95 = f"{total.p95_ms:.0f} ms" if total.p95_ms is not None else "-"
        console.print(
            f"{total.requests} requests, {total.rps:.1f} req/s, "
            f"{total.failure_ratio:.2%} failed, p95 {p95}"
        )
    _print_benchmark(summary, console)
    verdict = "[bold green]PASS[/]" if summary.passed else "[bold red]FAIL[/]"
    console.print(
        f"{verdict}  report: {summary.report_path}  summary: {summary.summary_path}",
        soft_wrap=True,
    )
    if summary.locust_report_path:
        console.print(
            f"Locust's own report: {summary.locust_report_path}", highlight=False, soft_wrap=True
        )
    if summary.locust_csv_paths:  # never wrapped: paths are copied from the log
        console.print(
            f"Locust's CSV: {' '.join(summary.locust_csv_paths)}", highlight=False, soft_wrap=True
        )


def _print_benchmark(summary: LoadSummary, console: Console) -> None:
    bench, cpu = summary.benchmark, summary.cpu
    if bench is not None:
        for stage in bench.stages:
            p95 = f"{stage.p95_ms:.0f} ms" if stage.p95_ms is not None else "-"
            console.print(
                f"  stage {stage.index + 1}: {stage.users:>4} users  {stage.rps:7.1f} req/s  "
                f"{stage.request_rps:6.2f} ok {bench.request}/s  p95 {p95:>8}  "
                f"failed {stage.failure_ratio:.2%}  {'ok' if stage.met else 'over'}"
            )
        if bench.sustainable_rps is not None:
            console.print(
                f"[bold]benchmark:[/] sustainable {bench.sustainable_rps:.1f} {bench.request}/s "
                f"at p95 < {bench.p95_limit_ms:.0f} ms ({bench.at_users} users)"
            )
        else:
            console.print(
                f"[bold]benchmark:[/] no stage kept {bench.request} at p95 < "
                f"{bench.p95_limit_ms:.0f} ms"
            )
    if cpu is not None:
        console.print(
            f"[bold]CPU:[/] load generator {cpu.load_generator_s:.1f} s "
            f"({cpu.load_generator_cores:.2f} cores), system under test "
            f"{cpu.system_under_test_s:.1f} s ({cpu.system_under_test_cores:.2f} cores), "
            f"fault proxy {cpu.fault_proxy_s:.1f} s ({cpu.fault_proxy_cores:.2f} cores) "
            f"over {cpu.wall_s:.0f} s"
        )
