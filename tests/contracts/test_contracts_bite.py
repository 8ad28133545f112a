"""The contracts bite: a provider that renames or retypes one field a consumer reads fails
verification, and the verifier's output names that field."""

from __future__ import annotations

import pytest
from contracts_testing import pacts_for

from harness.contracts import PactFile, options_for, verify_provider
from harness.runtime import RunningSystem
from harness.topology import Topology

pytestmark = pytest.mark.integration


def test_the_real_users_service_passes_the_pacts(
    variants: RunningSystem, variants_topology: Topology, shop_pacts: list[PactFile]
) -> None:
    result = verify_provider(
        "users",
        url=variants.url("users"),
        pacts=pacts_for(shop_pacts, "users"),
        options=options_for(variants_topology, "users"),
    )
    assert result.passed, result.output
    assert len(result.interactions) == 6


def test_a_renamed_field_fails_verification_and_the_output_names_it(
    variants: RunningSystem, variants_topology: Topology, shop_pacts: list[PactFile]
) -> None:
    result = verify_provider(
        "users",
        url=variants.url("users-renamed"),
        pacts=pacts_for(shop_pacts, "users"),
        options=options_for(variants_topology, "users"),
    )

    assert not result.passed
    assert "$ -> Actual map is missing the following keys: email" in result.output, result.output
    failed = {(i.consumer, i.description) for i in result.failed}
    assert ("gateway", "a request from the gateway for a user") in failed
    assert any(line.endswith("keys: email") for i in result.failed for line in i.mismatches)
    # orders only asks whether a user exists: the rename breaks no promise made to it.
    assert all(i.passed for i in result.interactions if i.consumer == "orders")


def test_a_retyped_field_fails_verification_and_the_output_names_it(
    variants: RunningSystem, variants_topology: Topology, shop_pacts: list[PactFile]
) -> None:
    result = verify_provider(
        "inventory",
        url=variants.url("inventory-retyped"),
        pacts=pacts_for(shop_pacts, "inventory"),
        options=options_for(variants_topology, "inventory-retyped"),
    )

    assert not result.passed
    assert "$.price_cents -> Expected '1250' (String) to be an integer" in result.output, (
        result.output
    )
    failed = {(i.consumer, i.description) for i in result.failed}
    assert ("orders", "a request from orders for a product's price") in failed
    # Reservations carry no price: those interactions still pass.
    assert all(i.passed for i in result.interactions if "reserv" in i.description)
