"""Fixtures for the harness's own tests: private state directories and the fixture apps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_helpers import MINI, variant

from harness.runtime.rundir import list_run_dirs, read_state
from harness.runtime.teardown import stop_run
from harness.topology import Topology, load_topology


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HARNESS_HOME, so runs (and stale-run cleanup) never touch anyone else's.

    Afterwards every run still recorded as not stopped is stopped in-process: a test that
    fails before its own `harness down` (or a CLI that cannot even start) leaves nothing.
    """
    path = tmp_path / "home"
    monkeypatch.setenv("HARNESS_HOME", str(path))
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    yield path
    for run_dir in list_run_dirs(path):
        state = read_state(run_dir)
        if state is not None and state.status != "stopped":
            stop_run(run_dir, state)


@pytest.fixture(scope="session")
def mini() -> Topology:
    """caller -> echo (ASGI), caller -> legacy (WSGI under gunicorn)."""
    return load_topology(MINI)


@pytest.fixture(scope="session")
def mini_without_edges(mini: Topology) -> Topology:
    """The fixture apps without edges: no fault proxy is needed."""
    return variant(mini, edges=[])


@pytest.fixture
def cli_env(home: Path) -> dict[str, str]:
    """Environment for running the CLI in a subprocess against the private home."""
    return {**os.environ, "HARNESS_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
