"""The topology's `[fuzz]` table: parsed with the rest, and the defaults of `harness fuzz`."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.fuzz import FuzzOptions
from harness.fuzz.runner import _with_topology_defaults
from harness.topology import TopologyError, load_topology, parse_topology

SERVICES = {"api": {"command": ["{python}", "-c", "pass"]}}


def test_fuzz_table_is_optional_and_empty_by_default() -> None:
    topology = parse_topology({"services": SERVICES})
    assert topology.fuzz.prepare is None
    assert topology.fuzz.settle == 0.0
    assert topology.fuzz.env == {}


def test_a_prepare_reference_without_a_function_names_the_key() -> None:
    with pytest.raises(TopologyError, match=r"fuzz\.prepare.*module:function"):
        parse_topology({"services": SERVICES, "fuzz": {"prepare": "seed.py"}}, source="t.toml")


def test_an_unknown_fuzz_key_is_refused() -> None:
    with pytest.raises(TopologyError, match=r"fuzz\.budget"):
        parse_topology({"services": SERVICES, "fuzz": {"budget": 3}}, source="t.toml")


def test_fuzz_defaults_fill_what_options_leave_unset(tmp_path: Path) -> None:
    path = tmp_path / "system.toml"
    path.write_text(
        '[services.api]\ncommand = ["{python}", "-c", "pass"]\n'
        '[fuzz]\nprepare = "data.py:seed"\nsettle = 1.5\n'
        'env = { BREAKER_OPEN_SECONDS = 1, LOG_LEVEL = "INFO" }\n'
    )
    filled = _with_topology_defaults(load_topology(path), FuzzOptions())
    assert filled.prepare == f"{tmp_path / 'data.py'}:seed"  # relative to the topology file
    assert filled.settle_seconds == 1.5
    assert filled.env == {"BREAKER_OPEN_SECONDS": "1", "LOG_LEVEL": "INFO"}


def test_options_win_over_the_fuzz_table(tmp_path: Path) -> None:
    path = tmp_path / "system.toml"
    path.write_text(
        '[services.api]\ncommand = ["{python}", "-c", "pass"]\n'
        '[fuzz]\nprepare = "pkg.data:seed"\nsettle = 1.5\nenv = { LOG_LEVEL = "INFO" }\n'
    )
    options = FuzzOptions(prepare="mine:prepare", settle_seconds=3.0, env={"LOG_LEVEL": "DEBUG"})
    filled = _with_topology_defaults(load_topology(path), options)
    assert filled.prepare == "mine:prepare"
    assert filled.settle_seconds == 3.0
    assert filled.env == {"LOG_LEVEL": "DEBUG"}
