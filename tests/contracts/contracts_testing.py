"""Paths and helpers the harness contracts tests share (fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from harness.contracts import PactFile

ROOT = Path(__file__).resolve().parents[2]
PACTS_DIR = ROOT / "contracts" / "pacts"
SHOP_TOPOLOGY = ROOT / "target-system" / "system.toml"
VARIANTS_TOPOLOGY = Path(__file__).parent / "variants" / "system.toml"


def pacts_for(pacts: list[PactFile], provider: str) -> list[PactFile]:
    return [p for p in pacts if p.provider == provider]
