"""Kill scenarios: whatever signal reaches `harness up -f`, at whatever moment, `harness down`
afterwards leaves no process and no listening port of that run.

Signals: SIGINT, SIGTERM, SIGKILL, two SIGTERMs 0.3 s apart, and SIGTERM then SIGKILL 0.3 s
later (the owner killed in the middle of its own teardown). Moments: during start-up
(the fault proxy or the fork server is on record, nothing is healthy yet), right after the
fork server forked the services (before or while the owner adopts them), while up, in the
middle of a load run (`harness load run`, whose system is started by the load runner) and in
the middle of a chaos experiment (`harness chaos run`, a latency toxic on).

A run's processes are counted two ways: the pids its state file records, and every process
whose environment carries the run's id (what the runtime marks each process it starts with);
ports are those the state file records.

The matrix, printed:

    python tests/harness/test_kill_scenarios.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from runtime_helpers import APPS, alive, harness_cli

from harness.runtime.ports import port_is_listening
from harness.runtime.processes import marked_processes
from harness.runtime.rundir import RunState, list_run_dirs, read_state

# The fixture apps with a fault proxy on both edges and a fork server (preload).
TOPOLOGY = f"""
edges = ["caller -> echo", "caller -> legacy"]

[system]
startup_timeout = 30.0
preload = ["httpx", "uvicorn.main", "gunicorn.app.wsgiapp"]

[conventions]
health = "/health"

[services.echo]
app = "echo_asgi:app"
cwd = "{APPS}"

[services.legacy]
app = "hello_wsgi:app"
kind = "wsgi"
threads = 2
cwd = "{APPS}"

[services.caller]
app = "caller_asgi:app"
cwd = "{APPS}"
"""

PROFILE = """
name: kill-scenario
topology: system.toml
locustfile: locustfile.py
host_service: caller
users: 2
spawn_rate: 2
duration: 60s
"""

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Caller(HttpUser):
    wait_time = constant(0.2)

    @task
    def call(self):
        self.client.get("/call/echo", name="GET /call/echo")
"""
LOAD_RUNNING_FOR = 3.0  # seconds of load (or of the experiment) before the signal

EXPERIMENT = """
title: the caller's calls to echo are slow for a while
method:
  duration: 60s
  faults:
    - edge: caller -> echo
      toxic: latency
      attributes: {latency: 100}
      start: 0s
      duration: 60s
"""

SIGNALS: dict[str, tuple[signal.Signals, ...]] = {
    "SIGINT": (signal.SIGINT,),
    "SIGTERM": (signal.SIGTERM,),
    "SIGKILL": (signal.SIGKILL,),
    "2xSIGTERM": (signal.SIGTERM, signal.SIGTERM),
    "SIGTERM+KILL": (signal.SIGTERM, signal.SIGKILL),  # killed mid-teardown (a stop timeout)
}
SECOND_SIGNAL_AFTER = 0.3
MOMENT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Cell:
    """What one scenario left once `harness down` had run."""

    processes: int
    ports: int
    down_exit: int
    reached: bool  # the moment was reached before the run got past it

    def __str__(self) -> str:
        mark = "" if self.reached else "*"
        return f"{self.processes}p/{self.ports}ports{mark}"


def _state(home: Path) -> RunState | None:
    runs = list_run_dirs(home)
    return read_state(runs[-1]) if runs else None


def _wait(condition: Callable[[], bool], timeout: float = MOMENT_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def _starting(home: Path) -> bool:
    """Start-up is under way: something is on record, nothing is healthy yet."""
    state = _state(home)
    return (
        state is not None
        and state.status == "starting"
        and (state.fork_server is not None or state.fault_proxy is not None)
    )


def _forked(home: Path) -> bool:
    """The fork server has forked at least one service."""
    state = _state(home)
    if state is None or state.fork_server is None:
        return False
    server = state.fork_server.pid
    return any(p.ppid() == server for p in marked_processes(state.run_id) if p.pid != server)


def _loading(home: Path) -> bool:
    """The system a load (or chaos) run started is up, and the run has gone on a while."""
    if not _wait(lambda: (state := _state(home)) is not None and state.status == "running"):
        return False
    time.sleep(LOAD_RUNNING_FOR)
    return True


MOMENTS: dict[str, Callable[[Path, subprocess.Popen[str]], bool]] = {
    "start-up": lambda home, owner: _wait(lambda: _starting(home)),
    "after fork": lambda home, owner: _wait(lambda: _forked(home)),
    "up": lambda home, owner: _wait_for_line(owner, "healthy in"),
    "mid-load": lambda home, owner: _loading(home),
    "mid-chaos": lambda home, owner: _loading(home),
}


def _command(moment: str, workdir: Path) -> list[str]:
    topology = workdir / "system.toml"
    topology.write_text(TOPOLOGY, encoding="utf-8")
    if moment == "mid-chaos":
        experiment = workdir / "experiment.yaml"
        experiment.write_text(EXPERIMENT, encoding="utf-8")
        journals = str(workdir / "journals")
        return harness_cli(
            "chaos", "run", str(experiment), "--topology", str(topology), "--out",
            journals, "--no-live",
        )  # fmt: skip
    if moment != "mid-load":
        return harness_cli("up", "--foreground", "-t", str(topology))
    (workdir / "locustfile.py").write_text(LOCUSTFILE, encoding="utf-8")
    profile = workdir / "profile.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    return harness_cli("load", "run", str(profile), "--out", str(workdir / "load"))


def _wait_for_line(process: subprocess.Popen[str], fragment: str) -> bool:
    assert process.stdout is not None
    deadline = time.monotonic() + MOMENT_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            return False
        if fragment in line:
            return True
    return False


def left_by(state: RunState) -> tuple[int, int]:
    """(processes, listening ports) of the run still there."""
    pids = {p.pid for p in state.processes() if alive(p.pid)}
    pids |= {p.pid for p in marked_processes(state.run_id)}
    ports = [port for port in state.ports() if port_is_listening(port)]
    return len(pids), len(ports)


def run_scenario(signal_name: str, moment: str, workdir: Path) -> Cell:
    """Start `harness up -f` (or a load run), send the signals at the moment, run `harness
    down`, count what is left."""
    home = workdir / "home"
    env = {**os.environ, "HARNESS_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    owner = subprocess.Popen(
        _command(moment, workdir),
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reached = MOMENTS[moment](home, owner)
        for index, signum in enumerate(SIGNALS[signal_name]):
            if index:
                time.sleep(SECOND_SIGNAL_AFTER)
            if owner.poll() is None:
                owner.send_signal(signum)
        owner.wait(timeout=60)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()
    down = subprocess.run(
        harness_cli("down"), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    state = _state(home)
    processes, ports = left_by(state) if state is not None else (0, 0)
    return Cell(processes=processes, ports=ports, down_exit=down.returncode, reached=reached)


# The cells the tests session runs: one per failure the issue found (a killed load run, a
# SIGKILL right after fork, two SIGTERMs) plus a killed chaos run. `nox -s kill` runs the
# whole matrix (about 10 minutes on 2 cores): every other cell is marked `kill`.
EVERY_SESSION = {
    ("SIGKILL", "after fork"),
    ("SIGKILL", "mid-load"),
    ("2xSIGTERM", "start-up"),
    ("SIGKILL", "mid-chaos"),
}


def _cells() -> list[object]:
    return [
        pytest.param(
            signal_name,
            moment,
            marks=() if (signal_name, moment) in EVERY_SESSION else (pytest.mark.kill,),
            id=f"{signal_name}-{moment}",
        )
        for signal_name in SIGNALS
        for moment in MOMENTS
    ]


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.parametrize(("signal_name", "moment"), _cells())
def test_harness_down_leaves_nothing_of_a_run_whatever_killed_it(
    signal_name: str, moment: str, tmp_path: Path
) -> None:
    cell = run_scenario(signal_name, moment, tmp_path)
    assert cell.reached, f"the moment {moment!r} was not reached"
    assert (cell.processes, cell.ports) == (0, 0)
    assert cell.down_exit == 0


def main() -> None:
    """Print the whole matrix (`*`: the moment was not reached before the run passed it)."""
    width = max(map(len, MOMENTS)) + 2
    print(f"{'signal':<13}" + "".join(f"{m:>{width}}" for m in MOMENTS))
    failed = False
    for signal_name in SIGNALS:
        row = []
        for moment in MOMENTS:
            with tempfile.TemporaryDirectory() as workdir:
                cell = run_scenario(signal_name, moment, Path(workdir))
            failed |= bool(cell.processes or cell.ports or cell.down_exit or not cell.reached)
            row.append(f"{cell!s:>{width}}")
        print(f"{signal_name:<13}" + "".join(row), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
