"""Bringing a system up (`start_system`, `launch`), finding one that is up (`open_run`), and
stopping the runs nobody will stop any more (`clean_stale_runs`). Each asks the run's backend.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from harness.faults import toxiproxy_url_from_env
from harness.runtime.backends import DEFAULT_BACKEND, backend_named
from harness.runtime.errors import RunInUseError, RunNotFoundError
from harness.runtime.ports import release_ports, reserved_ports
from harness.runtime.rundir import (
    RunState,
    current_run_dir,
    harness_home,
    list_run_dirs,
    new_run_dir,
    prune_stopped_runs,
    read_state,
)
from harness.runtime.system import RunningSystem
from harness.runtime.teardown import StopReport, is_stale
from harness.topology import Topology, TopologyError, parse_topology

__all__ = [
    "clean_stale_runs",
    "launch",
    "open_run",
    "run_is_stale",
    "start_system",
    "terminate_on_sigterm",
]

log = logging.getLogger(__name__)


@contextmanager
def start_system(
    topology: Topology,
    *,
    backend: str = DEFAULT_BACKEND,
    run_dir: Path | None = None,
    toxiproxy_url: str | None = None,
    home: Path | None = None,
) -> Iterator[RunningSystem]:
    """Bring `topology` up; stop everything on exit (also on Ctrl-C, SIGTERM or an error).

    Args:
        backend: "process" (start local processes, the default), "attach" (use each
            service's `url`; nothing is started) or "containers" (a container per service
            and for the fault proxy, through testcontainers; see `backends.containers`).
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
    backend: str = DEFAULT_BACKEND,
    run_dir: Path | None = None,
    toxiproxy_url: str | None = None,
    home: Path | None = None,
) -> RunningSystem:
    """Like `start_system`, without the `with`: the caller must `stop()` or `detach()`."""
    chosen = backend_named(backend)
    home = home if home is not None else harness_home()
    toxiproxy_url = toxiproxy_url or toxiproxy_url_from_env()
    clean_stale_runs(home, also=[run_dir] if run_dir is not None else [])
    prune_stopped_runs(home)
    run_dir = _prepare_run_dir(run_dir, home)
    before = reserved_ports()
    try:
        system = chosen.launch(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)
    except BaseException:
        release_ports(reserved_ports() - before)
        raise
    # the ports the run records stay reserved until its stop (a service restarted by a
    # chaos experiment binds its port again); the others are bound by now
    release_ports(reserved_ports() - before - set(system.state.ports()))
    return system


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
    return backend_named(state.backend).reopen(state, run_dir=run_dir, topology=topology, home=home)


def run_is_stale(state: RunState) -> bool:
    """True when nobody will stop the run any more (`teardown.is_stale`, asking its backend)."""
    return is_stale(state, backend_named(state.backend))


def clean_stale_runs(home: Path, *, also: Iterable[Path] = ()) -> list[StopReport]:
    """Stop every stale run under `home` (and in the directories `also`); one report each."""
    reports = []
    candidates = {*list_run_dirs(home), *(Path(p) for p in also)}
    for run_dir in sorted(candidates):
        state = read_state(run_dir)
        if state is None or not run_is_stale(state):
            continue
        log.warning("cleaning stale run %s (owner pid %s is gone)", run_dir, state.owner_pid)
        reports.append(backend_named(state.backend).remove(state, run_dir=run_dir))
    return reports


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit (and Ctrl-C into KeyboardInterrupt) while a system is up,
    so teardown runs; from the first of them on, both are ignored, so that nothing cuts the
    teardown short.

    Only from the main thread, and only when nobody else handles SIGTERM already (Ctrl-C
    only when it still has Python's default handler).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous_int = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    if previous_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, previous_int)
