"""Bringing a system up (`start_system`, `launch`) and finding one that is up (`open_run`)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Literal

from harness.faults import FaultInjector, ToxiproxyClient, toxiproxy_url_from_env
from harness.runtime.attach_backend import NO_PROXY_REASON, attach_system
from harness.runtime.errors import HarnessRuntimeError, RunInUseError, RunNotFoundError
from harness.runtime.process_backend import launch_processes
from harness.runtime.processes import ManagedProcess
from harness.runtime.rundir import (
    current_run_dir,
    harness_home,
    new_run_dir,
    prune_stopped_runs,
    read_state,
)
from harness.runtime.system import RunningSystem
from harness.runtime.teardown import clean_stale_runs, run_is_stale
from harness.topology import Topology, TopologyError, parse_topology

__all__ = ["Backend", "launch", "open_run", "start_system", "terminate_on_sigterm"]

Backend = Literal["process", "attach", "containers"]
BACKENDS: tuple[Backend, ...] = ("process", "attach", "containers")


@contextmanager
def start_system(
    topology: Topology,
    *,
    backend: Backend | str = "process",
    run_dir: Path | None = None,
    toxiproxy_url: str | None = None,
    home: Path | None = None,
) -> Iterator[RunningSystem]:
    """Bring `topology` up; stop everything on exit (also on Ctrl-C, SIGTERM or an error).

    Args:
        backend: "process" (start local processes, the default), "attach" (use each
            service's `url`; nothing is started) or "containers" (a container per service
            and for the fault proxy, through testcontainers; see `containers_backend`).
        run_dir: where logs, databases and the state file go; default: a new directory
            under `<home>/runs/`.
        toxiproxy_url: a real Toxiproxy server to create the proxies on; default:
            `$TOXIPROXY_URL`, else the embedded fault proxy (process backend).
        home: the harness's state directory; default `$HARNESS_HOME`, else `./.harness`.

    Calling `system.detach()` inside the block leaves the system running on exit.
    """
    with terminate_on_sigterm():
        system = launch(
            topology, backend=backend, run_dir=run_dir, toxiproxy_url=toxiproxy_url, home=home
        )
        try:
            yield system
        finally:
            if not system.detached:
                system.stop()


def launch(
    topology: Topology,
    *,
    backend: Backend | str = "process",
    run_dir: Path | None = None,
    toxiproxy_url: str | None = None,
    home: Path | None = None,
) -> RunningSystem:
    """Like `start_system`, without the `with`: the caller must `stop()` or `detach()`."""
    if backend not in BACKENDS:
        raise HarnessRuntimeError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    home = home if home is not None else harness_home()
    toxiproxy_url = toxiproxy_url or toxiproxy_url_from_env()
    clean_stale_runs(home, also=[run_dir] if run_dir is not None else [])
    prune_stopped_runs(home)
    run_dir = _prepare_run_dir(run_dir, home)
    if backend == "attach":
        return attach_system(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)
    if backend == "containers":  # imported here: only this backend needs testcontainers
        from harness.runtime.containers_backend import launch_containers

        return launch_containers(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)
    return launch_processes(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)


def _prepare_run_dir(run_dir: Path | None, home: Path) -> Path:
    if run_dir is None:
        return new_run_dir(home).resolve()
    run_dir = Path(run_dir).resolve()
    state = read_state(run_dir)
    if state is not None and state.status != "stopped" and not run_is_stale(state):
        raise RunInUseError(f"run directory {run_dir} belongs to a run that is still up")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def open_run(run_dir: Path | None = None, *, home: Path | None = None) -> RunningSystem:
    """The system recorded in `run_dir` (default: the CLI's current run), to inspect or drive.

    Works from any process: process faults, health, logs, faults and `stop()` all act on
    the recorded process groups and proxies.
    """
    home = home if home is not None else harness_home()
    if run_dir is None:
        run_dir = current_run_dir(home)
        if run_dir is None:
            raise RunNotFoundError(f"no system is up (nothing recorded in {home}); `harness up`")
    state = read_state(run_dir)
    if state is None:
        raise RunNotFoundError(f"no readable state file in {run_dir}")
    source = Path(state.topology_path) if state.topology_path else run_dir / "state.json"
    try:
        topology = parse_topology(state.topology, source=source)
    except TopologyError as exc:
        raise RunNotFoundError(f"the state in {run_dir} holds an unusable topology: {exc}") from exc
    if state.backend == "containers":
        from harness.runtime.containers_backend import open_container_run

        return open_container_run(run_dir, state, topology, home=home)
    processes = {
        name: ManagedProcess(record.process)
        for name, record in state.services.items()
        if record.process is not None
    }
    proxy = state.fault_proxy
    client = ToxiproxyClient(proxy.api_url) if proxy is not None else None
    faults = FaultInjector(
        client,
        {name: e.proxy_name for name, e in state.edges.items()},
        owns_server=bool(proxy and proxy.embedded),
        unavailable_reason=NO_PROXY_REASON if state.backend == "attach" else "no fault proxy",
    )
    fault_proxy = ManagedProcess(proxy.process) if proxy and proxy.process else None
    return RunningSystem(
        topology=topology,
        run_dir=run_dir,
        state=state,
        faults=faults,
        processes=processes,
        fault_proxy=fault_proxy,
        home=home,
    )


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while a system is up, so teardown runs.

    Only from the main thread, and only when nobody else handles SIGTERM already.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
