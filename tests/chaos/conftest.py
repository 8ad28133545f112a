"""Fixtures for the chaos tests.

Unit tests use fakes (`chaos_fakes`, `fake_shop`). Integration tests run the experiments
in chaos/ against the real reference shop: through the harness pytest plugin's `system`
fixture (healed after each test; the project's pytest options name the shop's topology) for
experiments that need no special settings, and on systems started from the same topology
with the experiment's settings otherwise (`system_with`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chaos_paths import CHAOS_DIR

from harness.assertions.invariants import resolve_invariant


@pytest.fixture(scope="session")
def chaos_dir() -> Path:
    return CHAOS_DIR


@pytest.fixture(scope="session")
def shop_invariants() -> ModuleType:
    check = resolve_invariant("shop_invariants.py:check_shop_invariants", base_dir=CHAOS_DIR)
    return sys.modules[check.__module__]


@pytest.fixture
def system_with(
    pytestconfig: pytest.Config,
) -> Callable[[dict[str, Any]], AbstractContextManager[Any]]:
    """`with system_with({"BREAKER_ENABLED": False}) as system:` a fresh system with env."""
    from harness.chaos import start_for
    from harness.pytest_plugin import topology_path
    from harness.topology import load_topology

    topology = load_topology(topology_path(pytestconfig))
    return lambda env: start_for(topology, env)
