"""`harness up / status / down / logs`: bring a topology up, look at it, stop it.

`up` detaches by default: the services (and the fault proxy) keep running after the command
returns, recorded in the run's state file; `status`, `logs` and `down` find them there, from
any shell. `up --foreground` instead stays until Ctrl-C or SIGTERM and then stops everything.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.command_options import TopologyOption
from harness.console import make_console
from harness.runtime.embedded_proxy import FAULT_PROXY_LOG, FAULT_PROXY_NAME

if TYPE_CHECKING:
    from rich.console import Console

    from harness.runtime import RunningSystem, StopReport
    from harness.topology import Topology

__all__ = ["register"]

out = make_console(highlight=False)
err = make_console(stderr=True, highlight=False)


class BackendChoice(StrEnum):
    """The registered backends (`harness.runtime.BACKENDS`; a test keeps them equal)."""

    process = "process"
    attach = "attach"
    containers = "containers"


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON (services, edges, the fault proxy's API URL).")
]

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="HARNESS_HOME",
        help="State directory: runs, logs, state files (default: ./.harness).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("status")(status)
    app.command("down")(down)
    app.command("logs")(logs)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def _topology(path: Path | None) -> Topology:
    from harness.topology import TopologyError, find_topology, load_topology

    try:
        return load_topology(find_topology(path))
    except TopologyError as exc:
        err.print("[red]error:[/red] ", end="")
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None


def _refuse_if_up(home: Path) -> None:
    from harness.runtime import RunNotFoundError, open_run, run_is_stale

    try:
        current = open_run(home=home)
    except RunNotFoundError:
        return
    if current.state.status in ("starting", "running") and not run_is_stale(current.state):
        raise _fail(f"a system is already up (run {current.run_dir}); stop it with `harness down`")


def up(
    topology: TopologyOption = None,
    backend: Annotated[
        BackendChoice,
        typer.Option(
            help="process: local processes; attach: each service's url; containers: one "
            "container per service.",
        ),
    ] = BackendChoice.process,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", "-f", help="Stay until Ctrl-C/SIGTERM, then stop it all."),
    ] = False,
    toxiproxy_url: Annotated[
        str | None,
        typer.Option(
            envvar="TOXIPROXY_URL", help="A real Toxiproxy server instead of the embedded one."
        ),
    ] = None,
    home: HomeOption = None,
    json_output: JsonOption = False,
) -> None:
    """Bring a topology up, with a fault proxy on every edge, and print where everything is."""
    from harness.cli.render import system_json
    from harness.faults import FaultProxyError
    from harness.runtime import (
        HarnessRuntimeError,
        StartupError,
        clean_stale_runs,
        harness_home,
        launch,
    )
    from harness.runtime.rundir import set_current_run
    from harness.runtime.start import terminate_on_sigterm

    spec = _topology(topology)
    home = home or harness_home()
    for report in clean_stale_runs(home):
        _print_stale_cleanup(report, err if json_output else out)
    _refuse_if_up(home)
    with terminate_on_sigterm():
        with err.status(f"starting {len(spec.services)} services ..."):
            try:
                system = launch(spec, backend=backend.value, toxiproxy_url=toxiproxy_url, home=home)
            except (StartupError, HarnessRuntimeError, FaultProxyError) as exc:
                err.print("[red]error:[/red] ", end="")
                err.print(str(exc), markup=False)
                raise typer.Exit(1) from None
        try:
            if json_output:
                typer.echo(json.dumps(system_json(system), indent=2))
            else:
                _print_system(system)
            set_current_run(home, system.run_dir)  # `harness status/logs` from elsewhere
            if foreground:
                out.print("running in the foreground; Ctrl-C stops everything")
                _wait_until_stopped(system.run_dir)
            else:
                system.detach()
                if not json_output:
                    out.print(
                        "left running; `harness status`, `harness logs SERVICE`, `harness down`"
                    )
        finally:
            if not system.detached:
                _print_stop(system.stop())


def _wait_until_stopped(run_dir: Path) -> None:
    """Until Ctrl-C (SIGTERM raises SystemExit) or a `harness down` from another shell."""
    from harness.runtime.rundir import read_state

    try:
        while True:
            time.sleep(0.5)
            state = read_state(run_dir)
            if state is not None and state.status in ("stopping", "stopped"):
                out.print("stopped by `harness down`")
                return
    except KeyboardInterrupt:
        out.print("\nstopping ...")


def _print_stale_cleanup(report: StopReport, console: Console = out) -> None:
    note = "" if report.clean else f" (left: {report.survivors or report.busy_ports})"
    console.print(f"[yellow]cleaned a stale run[/yellow] {report.run_dir}{note}")


def _print_system(system: RunningSystem) -> None:
    from harness.cli.render import edges_table, services_table

    out.print(services_table(system))
    if system.edges:
        out.print(edges_table(system))
    if system.fault_proxy_url:
        out.print(f"fault proxy API: {system.fault_proxy_url}")
    out.print(f"run directory: {system.run_dir}")
    seconds = system.startup_seconds or 0.0
    out.print(
        f"[bold green]all {len(system.services)} services healthy in {seconds:.2f} s[/bold green]"
    )


def _print_stop(report: StopReport) -> None:
    if report.clean:
        out.print("stopped: no process left, every port closed")
        return
    if report.survivors:
        err.print(f"[red]still running:[/red] {', '.join(report.survivors)}")
    if report.busy_ports:
        ports = ", ".join(map(str, report.busy_ports))
        err.print(f"[yellow]ports still listening (not ours any more?):[/yellow] {ports}")


def _open(home: Path | None) -> RunningSystem:
    from harness.runtime import RunNotFoundError, harness_home, open_run

    try:
        return open_run(home=home or harness_home())
    except RunNotFoundError as exc:
        raise _fail(str(exc)) from None


def status(home: HomeOption = None, json_output: JsonOption = False) -> None:
    """Show the system `harness up` started: services, health, edges, proxies and toxics."""
    from harness.cli.render import edges_table, services_table, system_json
    from harness.faults import FaultProxyError

    system = _open(home)
    state = system.state
    health = system.health()
    proxies = None
    if system.fault_proxy_url is not None:
        try:
            proxies = system.faults.client.proxies()
        except FaultProxyError as exc:
            err.print(f"[yellow]fault proxy not answering:[/yellow] {exc}")
    if json_output:
        typer.echo(json.dumps(system_json(system, health=health, proxies=proxies), indent=2))
    else:
        out.print(f"run {system.run_dir} ({state.backend} backend, {state.status})")
        out.print(services_table(system, health))
        if system.edges:
            out.print(edges_table(system, proxies))
    unhealthy = sorted(name for name, reason in health.items() if reason is not None)
    if unhealthy or state.status != "running":
        raise _fail(f"not healthy: {', '.join(unhealthy) or state.status}")


def down(home: HomeOption = None) -> None:
    """Stop the system `harness up` started (and any stale run left by a crash)."""
    from harness.runtime import RunNotFoundError, clean_stale_runs, harness_home, open_run

    home = home or harness_home()
    for report in clean_stale_runs(home):
        _print_stale_cleanup(report)
    try:
        system = open_run(home=home)
    except RunNotFoundError:
        out.print("nothing is up")
        return
    if system.state.status == "stopped":
        out.print("nothing is up")
        return
    report = system.stop()
    _print_stop(report)
    if report.survivors:
        raise typer.Exit(1)


def logs(
    service: Annotated[str, typer.Argument(help=f"A service name, or {FAULT_PROXY_NAME}.")],
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="How many lines.")] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Print the last lines of a service's log (stdout and stderr of its process)."""
    from harness.runtime.processes import tail_lines

    system = _open(home)
    path = _log_path(system, service)
    if not path.is_file():
        raise _fail(f"no log at {path}")
    for line in tail_lines(path, lines):
        typer.echo(line)
    if follow:
        _follow(path)


def _log_path(system: RunningSystem, service: str) -> Path:
    if service == FAULT_PROXY_NAME:
        return system.run_dir / FAULT_PROXY_LOG
    handle = system.services.get(service)
    if handle is None:
        known = ", ".join([*system.services, FAULT_PROXY_NAME])
        raise _fail(f"unknown service {service!r}; choose one of: {known}")
    if handle.log_path is None:
        raise _fail(f"{service} was not started by the harness, so it has no log here")
    return handle.log_path


def _follow(path: Path) -> None:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    typer.echo(line.rstrip("\n"))
                else:
                    time.sleep(0.2)
    except KeyboardInterrupt:
        return
