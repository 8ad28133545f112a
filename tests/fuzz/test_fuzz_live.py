"""The reference shop live (real processes, every edge through its fault proxy), fuzzed
through the gateway by the harness's engine: with a valid token, then with each of the
gateway's dependencies partitioned; and calls without a valid token are refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_budget import SEED, SHOP_CONFIG
from rich.console import Console

from harness import http_clients
from harness.fuzz import FuzzOptions, FuzzResult, PassResult, print_summary, run_fuzz
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REFERENCE = Path(__file__).resolve().parents[2] / "target-system" / "system.toml"
GATEWAY_EDGES = ("gateway->users", "gateway->orders", "gateway->inventory", "gateway->payments")
LIVE_EXAMPLES = 10
# A breaker opened by one partition closes during the settle time, before the next pass.
QUICK_BREAKERS = {"BREAKER_OPEN_SECONDS": "0.5"}
SETTLE_SECONDS = 1.0


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    home = tmp_path_factory.mktemp("home")
    topology = load_topology(REFERENCE).with_env(QUICK_BREAKERS)
    with start_system(topology, home=home) as system:
        yield system  # run_fuzz puts the test data in place: system.toml's [fuzz] prepare


@pytest.fixture(scope="module")
def gateway_run(shop: RunningSystem, tmp_path_factory: pytest.TempPathFactory) -> FuzzResult:
    options = FuzzOptions(
        seed=SEED,
        max_examples=LIVE_EXAMPLES,
        services=["gateway"],
        schemathesis_config=SHOP_CONFIG,
        settle_seconds=SETTLE_SECONDS,
        out_dir=tmp_path_factory.mktemp("fuzz"),
    )
    result = run_fuzz(REFERENCE, system=shop, options=options, console=Console(quiet=True))
    print_summary(result, console=Console(width=160))  # shown by pytest when a test fails
    return result


def passes(result: FuzzResult) -> dict[str, PassResult]:
    return {outcome.name: outcome for outcome in result.passes}


def test_the_gateway_fuzzed_live_with_a_token_has_no_failure(gateway_run: FuzzResult) -> None:
    assert gateway_run.passed, [f.message for f in gateway_run.failures] + gateway_run.errors
    fuzz = passes(gateway_run)["fuzz"]
    figures = fuzz.figures
    assert figures.operations_covered == figures.operations_total == 9
    # The token worked: orders were placed (steered to the prepared users and products).
    assert fuzz.answers["POST /api/orders"][201] > 0
    assert fuzz.answers["POST /api/users"][201] > 0
    # schemathesis' ignored_auth check re-sent requests without the token and with a bad one.
    assert fuzz.checks_run["ignored_auth"] > 0
    assert fuzz.checks_run["error_body_shape"] > 0
    assert fuzz.checks_run["keyed_replay"] > 0


def test_with_a_dependency_partitioned_the_gateway_answers_503_or_degrades(
    gateway_run: FuzzResult,
) -> None:
    by_name = passes(gateway_run)
    assert sorted(name for name in by_name if name != "fuzz") == sorted(
        f"partition {edge}" for edge in GATEWAY_EDGES
    )
    for edge in GATEWAY_EDGES:
        outcome = by_name[f"partition {edge}"]
        assert outcome.passed, [f.message for f in outcome.failures] + outcome.errors
        assert not [code for code in outcome.statuses if code >= 500 and code != 503], edge
    # Each partition was felt by the routes behind that edge, and only by them.
    behind = {
        "gateway->users": "GET /api/users/{user_id}",
        "gateway->orders": "POST /api/orders",
        "gateway->inventory": "GET /api/products",
    }
    for edge, route in behind.items():
        outcome = by_name[f"partition {edge}"]
        answers = outcome.answers
        assert answers[route][503] > 0, (edge, answers)
        assert outcome.checks_run["dependency_outage_answer"] > 0  # it judged those 503s
        assert not answers.get("GET /health", Counter())[503], (edge, answers)
    # Payments only feed the order view, which degrades instead of failing.
    assert not by_name["partition gateway->payments"].answers["POST /api/orders"][503]


def test_the_gateway_refuses_every_api_route_without_a_valid_token(shop: RunningSystem) -> None:
    document = http_clients.get(f"{shop.url('gateway')}/openapi.json", timeout=10).json()
    routes = [
        (method.upper(), path.replace("{user_id}", "1").replace("{order_id}", "1"))
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]
    assert len(routes) == 6
    with http_clients.client(base_url=shop.url("gateway"), timeout=10) as client:
        for method, path in routes:
            path = path.replace("{sku}", "SKU-1")
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                response = client.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert response.json()["error"] == "unauthorized"
