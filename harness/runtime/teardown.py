"""Stopping a run for good, and telling whether a run is stale.

A run is *stale* when nobody will stop it any more: its owner (the process that started it)
is gone and the run was not handed over to the CLI (`detached`), or it was detached but its
backend finds nothing of it alive. The next start (and `harness down`) stops stale runs.

Teardown runs to the end once begun: SIGINT and SIGTERM that arrive meanwhile are held and
delivered afterwards (`signals_held`), so a second Ctrl-C or `kill` cannot leave half a run.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from harness.runtime.ports import wait_ports_closed
from harness.runtime.processes import ManagedProcess, kill_marked, same_process, stop_groups
from harness.runtime.proxies import release_proxies
from harness.runtime.rundir import RunState, write_state

if TYPE_CHECKING:
    from harness.runtime.backends.base import Backend

__all__ = ["StopReport", "is_stale", "owner_alive", "signals_held", "stop_run"]

log = logging.getLogger(__name__)
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(slots=True)
class StopReport:
    """What stopping a run left behind: ideally nothing."""

    run_dir: Path
    survivors: list[str] = field(default_factory=list)  # groups that survived SIGKILL
    busy_ports: list[int] = field(default_factory=list)  # ports still listening afterwards
    unrecorded: int = 0  # processes found by the run's mark only (started as the owner died)

    @property
    def clean(self) -> bool:
        return not self.survivors and not self.busy_ports


def owner_alive(state: RunState) -> bool:
    """True while the process that started the run is still running."""
    return same_process(state.owner_pid, state.owner_create_time) is True


def is_stale(state: RunState, backend: Backend) -> bool:
    """True when nobody will stop the run any more (see the module docstring)."""
    if state.status == "stopped" or owner_alive(state):
        return False
    return not state.detached or not backend.is_alive(state)


def stop_run(
    run_dir: Path,
    state: RunState,
    processes: Sequence[ManagedProcess] | None = None,
    *,
    grace: float = 3.0,
) -> StopReport:
    """Stop every process of the run, give back its proxies, check its ports.

    `processes` are the live handles when the caller started them (so exits are reaped);
    otherwise they are rebuilt from the state file. Processes that carry the run's mark but
    are in no record (forked as the owner was killed) are killed too.
    """
    with signals_held():
        state.status = "stopping"
        write_state(run_dir, state)
        release_proxies(state)
        handles = list(processes) if processes is not None else _from_records(state)
        survivors = stop_groups(handles, grace=grace)
        report = StopReport(run_dir=run_dir, survivors=[_describe(p) for p in survivors])
        report.unrecorded, left = kill_marked(state.run_id)
        report.survivors += left
        if report.unrecorded:
            log.warning("run %s: killed %d unrecorded processes", run_dir, report.unrecorded)
        report.busy_ports = wait_ports_closed(state.ports(), timeout=2.0 if survivors else 5.0)
        state.status = "stopped"
        write_state(run_dir, state)
        return report


def _from_records(state: RunState) -> list[ManagedProcess]:
    return [ManagedProcess(record) for record in state.processes()]


def _describe(process: ManagedProcess) -> str:
    argv = " ".join(process.record.argv[:4])
    return f"process group {process.record.pgid} ({argv} ...)"


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them (main thread only).

    Nested blocks hold until the outermost ends. Signals the process ignores stay ignored.
    """
    if threading.current_thread() is not threading.main_thread() or _holding.is_set():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {sig: signal.getsignal(sig) for sig in HELD_SIGNALS}
    for sig in HELD_SIGNALS:
        if previous[sig] is not signal.SIG_IGN:
            signal.signal(sig, hold)
    _holding.set()
    try:
        yield
    finally:
        _holding.clear()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(held):  # once each: a second Ctrl-C means the same
            signal.raise_signal(signum)


_holding = threading.Event()
