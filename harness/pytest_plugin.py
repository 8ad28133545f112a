"""pytest plugin (entry point `pytest11: harness`): chaos tests as plain pytest.

Fixtures:

* `harness_system` (session): the topology brought up once per session, torn down at the end.
  The topology file comes from `--harness-topology`, else the `harness_topology` ini option,
  else the `HARNESS_TOPOLOGY` env var. `TOXIPROXY_URL` selects a real Toxiproxy server.
* `system` (function): the same `RunningSystem`; after each test it resumes paused services,
  restarts killed ones and removes every fault, so the next test starts from a healthy system.
* `faults` (function): the system's `FaultInjector`; after each test every toxic is removed
  and every proxy re-enabled.

Nothing heavy is imported until a fixture is used: the plugin loads in every pytest run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.faults import FaultInjector
    from harness.runtime import RunningSystem

__all__ = ["faults", "harness_system", "system", "topology_path"]

TOPOLOGY_ENV = "HARNESS_TOPOLOGY"
BACKEND_ENV = "HARNESS_BACKEND"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "contract and chaos harness")
    group.addoption(
        "--harness-topology",
        default=None,
        help=f"system.toml brought up by the `system` fixture (else ini or ${TOPOLOGY_ENV})",
    )
    group.addoption(
        "--harness-backend",
        default=None,
        choices=("process", "attach", "containers"),
        help=f"runtime backend for the `system` fixture (default: process, or ${BACKEND_ENV})",
    )
    parser.addini("harness_topology", "system.toml for the `system` fixture", default="")
    parser.addini("harness_backend", "runtime backend: process, attach or containers", default="")


def topology_path(config: pytest.Config) -> Path:
    """The topology file the `harness_system` fixture brings up (see the module docstring);
    a test that needs its own system with other settings starts it from the same file."""
    option = config.getoption("--harness-topology")
    if option:
        return Path(option)
    ini = str(config.getini("harness_topology"))
    if ini:
        return config.rootpath / ini
    env = os.environ.get(TOPOLOGY_ENV)
    if env:
        return Path(env)
    raise pytest.UsageError(
        "the harness `system` fixture needs a topology: pass --harness-topology FILE, "
        f"set `harness_topology` in the pytest ini options, or set ${TOPOLOGY_ENV}"
    )


def _backend(config: pytest.Config) -> str:
    return (
        config.getoption("--harness-backend")
        or str(config.getini("harness_backend"))
        or os.environ.get(BACKEND_ENV)
        or "process"
    )


@pytest.fixture(scope="session")
def harness_system(pytestconfig: pytest.Config) -> Iterator[RunningSystem]:
    """The configured topology, up for the whole session (torn down even on failure)."""
    from harness.runtime import start_system
    from harness.topology import TopologyError, load_topology

    try:
        topology = load_topology(topology_path(pytestconfig))
    except TopologyError as exc:
        raise pytest.UsageError(str(exc)) from None
    with start_system(topology, backend=_backend(pytestconfig)) as running:
        yield running


@pytest.fixture
def system(harness_system: RunningSystem) -> Iterator[RunningSystem]:
    """The session's system; healed after the test (faults removed, processes restored)."""
    yield harness_system
    harness_system.restore()


@pytest.fixture
def faults(system: RunningSystem) -> Iterator[FaultInjector]:
    """Network faults on the system's edges; every toxic removed after the test."""
    yield system.faults
    system.faults.reset()
