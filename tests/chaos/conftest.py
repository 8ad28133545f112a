"""Fixtures for the chaos tests: the repository's experiment directory and the reference
shop's invariant module (a file under chaos/, loaded the way experiments load it)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from harness.chaos.invariants import resolve_invariant

ROOT = Path(__file__).resolve().parents[2]
CHAOS_DIR = ROOT / "chaos"


@pytest.fixture(scope="session")
def chaos_dir() -> Path:
    return CHAOS_DIR


@pytest.fixture(scope="session")
def shop_invariants() -> ModuleType:
    check = resolve_invariant("shop_invariants.py:check_shop_invariants", base_dir=CHAOS_DIR)
    import sys

    return sys.modules[check.__module__]
