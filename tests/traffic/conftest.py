"""Fixtures for the traffic tests: a tiny non-shop service started by the harness runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

APPS = Path(__file__).parent / "apps"
NOTES_TOKEN = "tok-very-secret-42"  # what apps/system.toml gives the service


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The notes service (Starlette), running as a real process on loopback."""
    topology = load_topology(APPS / "system.toml")
    home = tmp_path_factory.mktemp("home")
    with start_system(topology, home=home, toxiproxy_url=None) as system:
        yield system
