"""Provider verification: every pact in contracts/pacts replayed against its provider, the
reference shop started for real by the harness runtime in its test mode, with provider
states set up through each service's test-mode route (both declared in its system.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.contracts import (
    edge_coverage,
    in_test_mode,
    load_pacts,
    options_for,
    verify_provider,
)
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
PACTS = load_pacts(ROOT / "contracts" / "pacts")
TOPOLOGY = load_topology(ROOT / "target-system" / "system.toml")
PROVIDERS = sorted({pact.provider for pact in PACTS})

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    home = tmp_path_factory.mktemp("harness-home")
    with start_system(in_test_mode(TOPOLOGY), home=home) as system:
        yield system


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_provider_honours_its_consumers_pacts(shop: RunningSystem, provider: str) -> None:
    pacts = [pact for pact in PACTS if pact.provider == provider]
    result = verify_provider(
        provider, url=shop.url(provider), pacts=pacts, options=options_for(TOPOLOGY, provider)
    )
    expected = sum(len(pact.interactions) for pact in pacts)
    assert result.passed, f"{provider} failed verification:\n{result.output}"
    assert len(result.interactions) == expected


def test_every_edge_of_the_shop_has_a_pact() -> None:
    uncovered = [row.edge for row in edge_coverage(TOPOLOGY, PACTS) if not row.covered]
    assert uncovered == []
