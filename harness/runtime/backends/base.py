"""What a backend is: the one seam between start-up/teardown and where services run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harness.runtime.rundir import RunState
    from harness.runtime.system import RunningSystem
    from harness.runtime.teardown import StopReport
    from harness.topology import Topology

__all__ = ["Backend"]


class Backend(Protocol):
    """Brings a topology up somewhere, and finds, checks and removes what it brought up.

    Every method but `launch` works from the state file alone, in any process: that is how
    `harness down`, `harness status` and the stale-run cleanup reach a run.
    """

    name: str
    # each launch brings up a system of its own (so several can run side by side)
    independent: bool

    def launch(
        self, topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
    ) -> RunningSystem:
        """Bring `topology` up, recording everything in `run_dir`'s state file as it starts;
        on failure stop what was started and raise `StartupError`."""
        ...

    def reopen(
        self, state: RunState, *, run_dir: Path, topology: Topology, home: Path | None
    ) -> RunningSystem:
        """The running system recorded in `state`, to inspect, drive or stop."""
        ...

    def is_alive(self, state: RunState) -> bool:
        """True while anything of the run still runs (for a detached run: not yet stale)."""
        ...

    def remove(self, state: RunState, *, run_dir: Path) -> StopReport:
        """Stop and remove everything of the run, from its state file alone."""
        ...
