"""The backend seam: the registry, staleness through the protocol, teardown that holds signals."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

import pytest
from runtime_helpers import APPS

from harness.runtime import (
    BACKENDS,
    HarnessRuntimeError,
    RunningSystem,
    RunState,
    StopReport,
    backend_named,
    run_is_stale,
    start_system,
)
from harness.runtime.rundir import new_state, read_state, write_state
from harness.runtime.teardown import is_stale, signals_held
from harness.topology import Topology, parse_topology

TOPOLOGY = parse_topology(
    {"services": {"svc": {"url": "http://127.0.0.1:9"}}}, source=APPS / "inline.toml"
)


class RecordingBackend:
    """A backend that starts nothing: what start-up and teardown ask of it, recorded."""

    name = "recording"

    def __init__(self, *, alive: bool = True) -> None:
        self.alive = alive
        self.calls: list[str] = []

    def launch(
        self, topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
    ) -> RunningSystem:
        self.calls.append("launch")
        state = new_state(topology, run_dir=run_dir, backend=self.name)
        state.status = "running"
        write_state(run_dir, state)
        return self.reopen(state, run_dir=run_dir, topology=topology, home=home)

    def reopen(
        self, state: RunState, *, run_dir: Path, topology: Topology, home: Path | None
    ) -> RunningSystem:
        self.calls.append("reopen")
        return RunningSystem.from_state(state, run_dir=run_dir, topology=topology, home=home)

    def is_alive(self, state: RunState) -> bool:
        self.calls.append("is_alive")
        return self.alive

    def remove(self, state: RunState, *, run_dir: Path) -> StopReport:
        self.calls.append("remove")
        state.status = "stopped"
        write_state(run_dir, state)
        return StopReport(run_dir=run_dir)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingBackend:
    backend = RecordingBackend()
    monkeypatch.setitem(BACKENDS, backend.name, backend)
    return backend


def test_the_three_backends_are_registered_by_name() -> None:
    assert list(BACKENDS) == ["process", "attach", "containers"]
    assert all(backend_named(name).name == name for name in BACKENDS)


def test_an_unknown_backend_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(HarnessRuntimeError, match=r"unknown backend 'k8s'.*process, attach"):
        backend_named("k8s")


def test_a_registered_backend_is_started_and_stopped_through_the_protocol(
    recording: RecordingBackend, home: Path
) -> None:
    with start_system(TOPOLOGY, backend="recording", home=home) as system:
        assert system.state.backend == "recording"
    assert recording.calls == ["launch", "reopen"]
    state = read_state(system.run_dir)
    assert state is not None
    assert state.status == "stopped"


def _orphaned_state(tmp_path: Path, *, detached: bool, backend: str) -> RunState:
    state = new_state(TOPOLOGY, run_dir=tmp_path, backend=backend)
    state.owner_pid, state.owner_create_time = 2**22 + 1, 0.0  # an owner that is gone
    state.status = "running"
    state.detached = detached
    return state


def test_a_detached_run_is_stale_only_once_its_backend_finds_nothing_alive(
    recording: RecordingBackend, tmp_path: Path
) -> None:
    state = _orphaned_state(tmp_path, detached=True, backend="recording")
    assert not run_is_stale(state)
    recording.alive = False
    assert run_is_stale(state)
    assert recording.calls == ["is_alive", "is_alive"]


def test_a_run_whose_owner_died_without_handing_it_over_is_stale(
    recording: RecordingBackend, tmp_path: Path
) -> None:
    assert is_stale(_orphaned_state(tmp_path, detached=False, backend="recording"), recording)
    assert recording.calls == []  # no need to ask


def test_a_detached_attach_run_is_never_stale(tmp_path: Path) -> None:
    assert not run_is_stale(_orphaned_state(tmp_path, detached=True, backend="attach"))


def test_teardown_holds_sigterm_until_it_is_done_then_delivers_it() -> None:
    seen: list[str] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append("handled")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            seen.append("teardown done")
        assert seen == ["teardown done", "handled"]  # delivered once, afterwards
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
