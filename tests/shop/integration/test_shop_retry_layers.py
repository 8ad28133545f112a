"""Retries happen at one layer: an order's call reaches a provider at most `retry_max_attempts`
times, whatever fails between orders and that provider (found by `harness explore`: the
gateway retried the 503 orders answered after its own three attempts, so one order reached
inventory up to 9 times and users 6).

The six services run as real processes with a fault proxy on every edge; the proxy counts
what it forwards by `X-Request-ID`, which the gateway passes on to every call an order makes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from shop_process_driver import ShopDriver

from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

ROOT = Path(__file__).parents[3]
TOPOLOGY = ROOT / "target-system" / "system.toml"
ATTEMPTS = 3  # the shop's retry_max_attempts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopDriver]:
    topology = load_topology(TOPOLOGY)
    # No breaker and a retry budget that never runs out: both cut retries short once enough
    # calls have failed, which hides the worst request (the matrix saw it at 5 orders/s);
    # what is bounded here is the layering of retries itself.
    env = {**topology.system.env, "BREAKER_ENABLED": "false", "RETRY_BUDGET_MIN_RETRIES": "1000"}
    system = topology.system.model_copy(update={"env": env})
    with start_system(
        topology.model_copy(update={"system": system}), home=tmp_path_factory.mktemp("home")
    ) as running:
        yield ShopDriver(running)


@pytest.fixture
def shop(driver: ShopDriver) -> Iterator[ShopDriver]:
    """The module's shop; every fault removed after a test."""
    yield driver
    driver.system.restore()


def _attempts_per_request(system: RunningSystem, edge: str, request_id: str) -> int:
    """The most times one call (method and path) of the request reached the provider: an
    order makes several calls to payments (a charge, then a look-up by its key)."""
    counts = system.faults.request_counts(edge, header="X-Request-ID")
    return max((row.count for row in counts.counts if row.value == request_id), default=0)


@pytest.mark.parametrize("edge", ["orders->users", "orders->inventory", "orders->payments"])
@pytest.mark.parametrize("fault", ["reset_peer", "http_drop"])
def test_an_order_reaches_a_failing_provider_at_most_the_attempts_of_one_layer(
    shop: ShopDriver, edge: str, fault: str
) -> None:
    user, sku = shop.new_user(), shop.new_product(stock=10)
    faults = shop.system.faults
    faults.count_requests(edge)
    faults.reset_request_counts(edge)
    request_id = f"retry-layers-{uuid.uuid4().hex}"
    with faults.toxic(edge, fault, stream="downstream"):
        response = shop.place_order(
            shop.order_body(user, sku), headers={"X-Request-ID": request_id}
        )
    assert response.status_code == 503, response.text  # the declared graceful degradation
    reached = _attempts_per_request(shop.system, edge, request_id)
    # the order did call the provider (the fault is on its path), and only once per attempt
    assert 1 <= reached <= ATTEMPTS, f"{edge} under {fault}: {reached} requests for one order"
    shop.wait_for_invariants()


def test_the_gateway_still_retries_a_503_that_never_reached_orders(shop: ShopDriver) -> None:
    """One layer of retries is kept: the proxy's 503s (orders never saw them) are retried."""
    user, sku = shop.new_user(), shop.new_product(stock=10)
    faults = shop.system.faults
    faults.count_requests("gateway->orders")
    faults.reset_request_counts("gateway->orders")
    request_id = f"retry-layers-{uuid.uuid4().hex}"
    with faults.toxic(
        "gateway->orders", "http_error", stream="downstream", attributes={"status": 503, "first": 2}
    ):
        response = shop.place_order(
            shop.order_body(user, sku), headers={"X-Request-ID": request_id}
        )
    assert response.status_code == 201, response.text
    # the two 503s were the proxy's: only the third attempt reached orders
    assert _attempts_per_request(shop.system, "gateway->orders", request_id) == 1
