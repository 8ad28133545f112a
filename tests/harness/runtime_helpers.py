"""Helpers for the harness's own tests (imported by conftest and the test modules)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.runtime.ports import port_is_listening
from harness.topology import Topology, parse_topology

APPS = Path(__file__).parent / "apps"
MINI = APPS / "system.toml"
REFERENCE = Path(__file__).parents[2] / "target-system" / "system.toml"

needs_fault_proxy = pytest.mark.skipif(
    importlib.util.find_spec("harness.faultproxy.__main__") is None,
    reason="the embedded fault proxy (harness/faultproxy, `python -m harness.faultproxy`) "
    "has not landed yet",
)


def variant(topology: Topology, **changes: Any) -> Topology:
    """The same topology with top-level keys replaced (e.g. `edges=[]`)."""
    data = topology.model_dump(mode="json", by_alias=True)
    data.update(changes)
    return parse_topology(data, source=topology.path or "<variant>")


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_nothing_left(pids: list[int], ports: list[int]) -> None:
    assert [pid for pid in pids if alive(pid)] == []
    assert [port for port in ports if port_is_listening(port)] == []


def harness_cli(*args: str) -> list[str]:
    """argv running the `harness` CLI with this interpreter."""
    return [sys.executable, "-m", "harness.cli", *args]
