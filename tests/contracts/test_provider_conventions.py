"""Providers verified by what they declare (`[services.X.conventions]`), nothing assumed:
a provider with no provider-state route gets no state-change call (its stateless
interactions pass, its stateful ones fail naming the setting), a provider with its own
route at its own path gets its states there, and a failure shows the first mismatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pact import Pact, match
from typer.testing import CliRunner

from harness import http_clients
from harness.contracts import (
    ContractsResult,
    load_pacts,
    run_contracts,
    verify_provider,
)
from harness.contracts.cli import app
from harness.runtime import RunningSystem

pytestmark = pytest.mark.integration

ITEM = {"id": match.int(1), "name": match.str("pen")}


def catalog_pacts(directory: Path, provider: str) -> None:
    """shopfront's pact with the catalog (one stateless and one stateful interaction) and
    indexer's message pact, as their consumer tests would write them."""
    pact = Pact("shopfront", provider).with_specification("V4")
    (
        pact.upon_receiving("a list of items")
        .with_request("GET", "/items")
        .will_respond_with(200)
        .with_body(match.each_like(ITEM), content_type="application/json")
    )
    (
        pact.upon_receiving("an item")
        .given("an item exists", id=7, name="ink")
        .with_request("GET", "/items/7")
        .will_respond_with(200)
        .with_body({"id": match.int(7), "name": match.str("ink")}, content_type="application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert http_clients.get(f"{server.url}/items").status_code == 200
        assert http_clients.get(f"{server.url}/items/7").status_code == 200
    pact.write_file(directory, overwrite=True)


def message_pact(directory: Path, provider: str) -> None:
    pact = Pact("indexer", provider).with_specification("V4")
    (
        pact.upon_receiving("an item.created event", "Async").with_body(
            {"type": "item.created", "id": match.int(7)}, content_type="application/json"
        )
    )
    pact.verify(lambda _body, _metadata: None, "Async")
    pact.write_file(directory, overwrite=True)


@pytest.fixture(scope="module")
def plain_pacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("plain-pacts")
    catalog_pacts(directory, "catalog-plain")
    message_pact(directory, "catalog-plain")
    return directory


@pytest.fixture(scope="module")
def stateful_pacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("stateful-pacts")
    catalog_pacts(directory, "catalog-stateful")
    return directory


def by_description(result: ContractsResult) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {i.description: (i.passed, i.mismatches) for i in result.interactions}


def test_without_a_state_route_stateless_interactions_pass_and_stateful_ones_name_the_setting(
    variants: RunningSystem, variants_topology_path: Path, plain_pacts: Path
) -> None:
    result = run_contracts(
        topology=variants_topology_path,
        pact_dir=plain_pacts,
        system=variants,
        providers=["catalog-plain"],
    )
    found = by_description(result)
    # Verified plainly: no state-change call, which this provider would have answered 404.
    assert found["a list of items"] == (True, ())
    passed, [why] = found["an item"]
    assert not passed
    assert "needs the provider state 'an item exists'" in why
    assert "catalog-plain declares no provider_states route" in why
    assert "[services.catalog-plain.conventions]" in why
    passed, [why] = found["an item.created event"]
    assert not passed
    assert "declares no messages route" in why
    assert not result.passed
    [provider] = result.providers
    assert provider.error is None
    assert provider.first_failure is not None
    # indexer's pact comes first (file order): its message interaction is the first failure.
    assert provider.first_failure.startswith("an item.created event: is a message interaction")


def test_a_state_route_at_the_providers_own_path_gets_every_state(
    variants: RunningSystem, variants_topology_path: Path, stateful_pacts: Path
) -> None:
    result = run_contracts(
        topology=variants_topology_path,
        pact_dir=stateful_pacts,
        system=variants,
        providers=["catalog-stateful"],
    )
    assert result.passed, [i.summary for i in result.interactions]
    assert len(result.interactions) == 2
    calls = http_clients.get(f"{variants.url('catalog-stateful')}/pact/calls", timeout=5).json()
    assert {"state": "an item exists", "params": {"id": 7, "name": "ink"}, "action": "setup"} in (
        calls
    )


def test_a_failed_verification_shows_the_first_mismatch_not_the_verifier_handle(
    variants: RunningSystem, tmp_path: Path
) -> None:
    pact = Pact("shopfront", "catalog-plain").with_specification("V4")
    (
        pact.upon_receiving("an item that is not there")
        .with_request("GET", "/items/99")
        .will_respond_with(200)
    )
    with pact.serve(addr="127.0.0.1") as server:
        http_clients.get(f"{server.url}/items/99")
    pact.write_file(tmp_path, overwrite=True)
    result = verify_provider(
        "catalog-plain", url=variants.url("catalog-plain"), pacts=load_pacts(tmp_path)
    )
    assert not result.passed
    assert result.error is None
    assert result.first_failure == "an item that is not there: expected 200 but was 404"


def test_the_cli_prints_the_failure_naming_the_setting(
    variants: RunningSystem, plain_pacts: Path, tmp_path: Path
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        f'[services.catalog-plain]\nurl = "{variants.url("catalog-plain")}"\n'
        '[services.catalog-plain.conventions]\nprovider_states = ""\n'
    )
    args = ["verify", "--topology", str(topology), "--pacts", str(plain_pacts)]
    args += ["--backend", "attach", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(
        app,
        args,
        env={"COLUMNS": "300", "HARNESS_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "FAILED catalog-plain: an item.created event: is a message interaction" in text
    assert "needs the provider state 'an item exists', but catalog-plain declares no" in text
    assert "VerifierHandle" not in text
    report = json.loads((tmp_path / "out" / "contracts.json").read_text())
    assert report["figures"]["interactions_passed"] == 1
