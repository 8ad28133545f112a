"""Run directories: where a run keeps its logs, databases and state file.

Layout: `<home>/runs/<run id>/` with `state.json`, one `<service>.log` per service and
`fault-proxy.log`. `<home>` is `$HARNESS_HOME`, else `.harness` in the current directory.
`<home>/current` names the run the CLI brought up (`harness status/down/logs` read it).

The state file records every process (pid, process group, start time) and port, so another
process (`harness down`, the next `harness up`) can find and stop a run, including one left
behind when its owner was SIGKILLed. Every process a run starts also carries the run's id in
its environment (`RUN_ID_ENV`), inherited by whatever it forks: a process started in the
instant before its pid reached the state file is still found by that mark.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from harness.topology import Topology

__all__ = [
    "HOME_ENV",
    "RUN_ID_ENV",
    "STATE_FILE",
    "EdgeRecord",
    "FaultProxyRecord",
    "ProcessRecord",
    "RunState",
    "ServiceRecord",
    "clear_current_run",
    "current_run_dir",
    "harness_home",
    "list_run_dirs",
    "new_run_dir",
    "new_state",
    "prune_stopped_runs",
    "read_state",
    "set_current_run",
    "write_state",
]

HOME_ENV = "HARNESS_HOME"
RUN_ID_ENV = "HARNESS_RUN_ID"  # in the environment of every process a run starts
STATE_FILE = "state.json"
RunStatus = Literal["starting", "running", "stopping", "stopped"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ProcessRecord(_Record):
    """One process group we started: its leader's pid (== pgid) and start time."""

    pid: int
    pgid: int
    create_time: float = Field(description="psutil create_time of the leader, against pid reuse")
    argv: list[str]
    env: dict[str, str] = Field(description="variables set on top of the inherited environment")
    cwd: str
    log_path: str


class ServiceRecord(_Record):
    name: str
    url: str
    port: int | None = None
    health: str = "/health"
    process: ProcessRecord | None = None  # None when the harness did not start it
    paused: bool = False


class EdgeRecord(_Record):
    name: str
    source: str
    target: str
    proxy_name: str
    listen: str | None
    upstream: str
    env_var: str
    # False for a proxy the run found on the user's Toxiproxy (attach): the run then removes
    # only its own toxics from it, and leaves it as it was found (`found_*`).
    created: bool = True
    found_toxics: list[str] = Field(default_factory=list)
    found_enabled: bool = True


class FaultProxyRecord(_Record):
    api_url: str
    embedded: bool
    process: ProcessRecord | None = None


class RunState(_Record):
    run_id: str
    backend: str
    topology_path: str | None
    topology: dict[str, Any] = Field(description="the topology as validated, to rebuild it")
    status: RunStatus = "starting"
    owner_pid: int
    owner_create_time: float
    detached: bool = False
    started_at: float = Field(default_factory=time.time)
    startup_seconds: float | None = None
    fault_proxy: FaultProxyRecord | None = None
    fork_server: ProcessRecord | None = None  # recorded before it forks anything
    services: dict[str, ServiceRecord] = Field(default_factory=dict)
    edges: dict[str, EdgeRecord] = Field(default_factory=dict)

    def processes(self) -> list[ProcessRecord]:
        found = [s.process for s in self.services.values() if s.process is not None]
        if self.fault_proxy is not None and self.fault_proxy.process is not None:
            found.append(self.fault_proxy.process)
        if self.fork_server is not None:
            found.append(self.fork_server)
        return found

    def ports(self) -> list[int]:
        ports = [s.port for s in self.services.values() if s.process is not None and s.port]
        for edge in self.edges.values():
            if edge.listen and self.fault_proxy is not None and self.fault_proxy.embedded:
                ports.append(int(edge.listen.rsplit(":", 1)[1]))
        if self.fault_proxy is not None and self.fault_proxy.embedded:
            ports.append(int(self.fault_proxy.api_url.rsplit(":", 1)[1]))
        return ports


def harness_home() -> Path:
    """`$HARNESS_HOME`, else `./.harness`."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / ".harness")


def new_run_dir(home: Path) -> Path:
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(2)}"
    path = home / "runs" / run_id
    path.mkdir(parents=True)
    return path


def new_state(topology: Topology, *, run_dir: Path, backend: str) -> RunState:
    """The state of a run this process is starting now (it is the run's owner)."""
    me = psutil.Process(os.getpid())
    return RunState(
        run_id=run_dir.name,
        backend=backend,
        topology_path=str(topology.path) if topology.path else None,
        topology=topology.model_dump(mode="json", by_alias=True),
        owner_pid=me.pid,
        owner_create_time=me.create_time(),
    )


def list_run_dirs(home: Path) -> list[Path]:
    """Run directories under `home` that hold a state file, oldest first."""
    runs = home / "runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if (p / STATE_FILE).is_file())


def read_state(run_dir: Path) -> RunState | None:
    """The run's state, or None when there is no readable state file."""
    try:
        return RunState.model_validate_json((run_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_state(run_dir: Path, state: RunState) -> None:
    """Replace the state file atomically (a reader never sees half a file)."""
    tmp = run_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(run_dir / STATE_FILE)


def current_run_dir(home: Path) -> Path | None:
    try:
        text = (home / "current").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


def set_current_run(home: Path, run_dir: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "current").write_text(str(run_dir.resolve()), encoding="utf-8")


def clear_current_run(home: Path, run_dir: Path | None = None) -> None:
    """Forget the current run (only if it is `run_dir`, when given)."""
    current = current_run_dir(home)
    if current is None or (run_dir is not None and current != run_dir.resolve()):
        return
    with contextlib.suppress(OSError):
        (home / "current").unlink()


def prune_stopped_runs(home: Path, *, keep: int = 10) -> None:
    """Delete all but the newest `keep` stopped runs (their logs stay until then)."""
    stopped = [p for p in list_run_dirs(home) if (s := read_state(p)) and s.status == "stopped"]
    for path in stopped[:-keep] if keep else stopped:
        shutil.rmtree(path, ignore_errors=True)
