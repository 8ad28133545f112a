"""Stopping a run for good, and finding runs whose owner died without stopping them.

A run is *stale* when nobody will stop it any more: its owner (the process that started it)
is gone and the run was not handed over to the CLI (`detached`), or it was detached but none
of its processes is alive. The next start cleans stale runs before doing anything else.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness.faults import FaultProxyError, ToxiproxyClient
from harness.runtime.ports import wait_ports_closed
from harness.runtime.processes import ManagedProcess, stop_groups
from harness.runtime.rundir import RunState, list_run_dirs, read_state, write_state

__all__ = ["StopReport", "clean_stale_runs", "owner_alive", "run_is_stale", "stop_run"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StopReport:
    """What stopping a run left behind: ideally nothing."""

    run_dir: Path
    survivors: list[str] = field(default_factory=list)  # groups that survived SIGKILL
    busy_ports: list[int] = field(default_factory=list)  # ports still listening afterwards

    @property
    def clean(self) -> bool:
        return not self.survivors and not self.busy_ports


def owner_alive(state: RunState) -> bool:
    """True while the process that started the run is still running."""
    try:
        owner = psutil.Process(state.owner_pid)
        same = abs(owner.create_time() - state.owner_create_time) < 0.05
        return same and owner.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def run_is_stale(state: RunState) -> bool:
    if state.status == "stopped" or owner_alive(state):
        return False
    if not state.detached:
        return True
    if state.backend == "containers":  # a detached run lives as long as its containers
        from harness.runtime.containers.cleanup import run_has_live_containers

        return not run_has_live_containers(state.run_id)
    return not any(ManagedProcess(record).is_alive() for record in state.processes())


def stop_run(
    run_dir: Path,
    state: RunState,
    processes: Sequence[ManagedProcess] | None = None,
    *,
    grace: float = 3.0,
) -> StopReport:
    """Stop every process of the run, drop its proxies from a real Toxiproxy, check its ports.

    `processes` are the live handles when the caller started them (so exits are reaped);
    otherwise they are rebuilt from the state file.
    """
    state.status = "stopping"
    write_state(run_dir, state)
    _delete_proxies_on_real_server(state)
    handles = list(processes) if processes is not None else _from_records(state)
    survivors = stop_groups(handles, grace=grace)
    report = StopReport(run_dir=run_dir, survivors=[_describe(p) for p in survivors])
    report.survivors += _remove_containers(state)
    report.busy_ports = wait_ports_closed(state.ports(), timeout=2.0 if survivors else 5.0)
    state.status = "stopped"
    write_state(run_dir, state)
    return report


def _remove_containers(state: RunState) -> list[str]:
    """The containers and network of a containers-backend run (found by their run label)."""
    if state.backend != "containers":
        return []
    from harness.runtime.containers.cleanup import remove_run

    return remove_run(state.run_id)


def _from_records(state: RunState) -> list[ManagedProcess]:
    return [ManagedProcess(record) for record in state.processes()]


def _describe(process: ManagedProcess) -> str:
    argv = " ".join(process.record.argv[:4])
    return f"process group {process.record.pgid} ({argv} ...)"


def _delete_proxies_on_real_server(state: RunState) -> None:
    proxy = state.fault_proxy
    if proxy is None or proxy.embedded:
        return  # the embedded proxy's process goes away with its proxies
    client = ToxiproxyClient(proxy.api_url, timeout=2.0)
    for edge in state.edges.values():
        with contextlib.suppress(FaultProxyError):
            client.delete_proxy(edge.proxy_name)


def clean_stale_runs(home: Path, *, also: Iterable[Path] = ()) -> list[StopReport]:
    """Stop every stale run under `home` (and in the directories `also`); one report each."""
    reports = []
    candidates = {*list_run_dirs(home), *(Path(p) for p in also)}
    for run_dir in sorted(candidates):
        state = read_state(run_dir)
        if state is None or not run_is_stale(state):
            continue
        log.warning("cleaning stale run %s (owner pid %s is gone)", run_dir, state.owner_pid)
        reports.append(stop_run(run_dir, state))
    return reports
