"""Fixtures for the harness contracts tests: the checked-in pacts and small real providers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.contracts import PactFile, in_test_mode, load_pacts
from harness.runtime import RunningSystem, start_system
from harness.topology import Topology, load_topology

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from contracts_testing import PACTS_DIR, VARIANTS_TOPOLOGY


@pytest.fixture(scope="session")
def shop_pacts() -> list[PactFile]:
    """The reference shop's checked-in pacts."""
    return load_pacts(PACTS_DIR)


@pytest.fixture(scope="session")
def variants_topology_path() -> Path:
    return VARIANTS_TOPOLOGY


@pytest.fixture(scope="session")
def variants_topology() -> Topology:
    return load_topology(VARIANTS_TOPOLOGY)


@pytest.fixture(scope="session")
def variants(
    variants_topology: Topology, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    """The providers of variants/system.toml, each in its test mode, up for the session."""
    home = tmp_path_factory.mktemp("harness-home")
    with start_system(in_test_mode(variants_topology), home=home) as system:
        yield system
