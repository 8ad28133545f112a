"""The reference shop from `target-system/system.toml`, through the embedded fault proxy."""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from runtime_helpers import REFERENCE, needs_fault_proxy

from harness import http_clients
from harness.observe.metrics import scrape
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

SERVICES = ("gateway", "users", "inventory", "payments", "orders", "notifications")
MISSING = [s for s in SERVICES if importlib.util.find_spec(f"shop.{s}.app") is None]

pytestmark = [
    pytest.mark.integration,
    needs_fault_proxy,
    pytest.mark.skipif(
        bool(MISSING), reason=f"reference services not written yet: {', '.join(MISSING)}"
    ),
]

LATENCY_MS = 1000
# Read timeouts well above the latency: the charge is slow, not failed, even on a busy machine.
SLOW_BUT_PATIENT = {"HTTP_READ_TIMEOUT": "10", "BREAKER_SLOW_CALL_SECONDS": "10"}
TOKEN = {"Authorization": "Bearer demo-token"}
_keys = itertools.count()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    topology = load_topology(REFERENCE)
    patient = topology.system.model_copy(
        update={"env": {**topology.system.env, **SLOW_BUT_PATIENT}}
    )
    with start_system(
        topology.model_copy(update={"system": patient}), home=tmp_path_factory.mktemp("home")
    ) as system:
        yield system


@pytest.fixture
def faults_reset(shop: RunningSystem) -> Iterator[RunningSystem]:
    yield shop
    shop.restore()


def place_order(shop: RunningSystem, sku: str) -> httpx.Response:
    """A user, a product with stock, and an order for it, through the gateway."""
    with http_clients.client(base_url=shop.url("gateway"), headers=TOKEN, timeout=30) as gateway:
        key = next(_keys)
        user = gateway.post("/api/users", json={"name": "Ann", "email": f"ann{key}@example.com"})
        assert user.status_code == 201, user.text
        product = {"sku": sku, "name": "Mug", "price_cents": 500, "stock": 5}
        created = http_clients.post(shop.url("inventory") + "/products", json=product, timeout=10)
        assert created.status_code == 201, created.text
        return gateway.post(
            "/api/orders",
            headers={"Idempotency-Key": f"order-{sku}"},
            json={
                "user_id": user.json()["id"],
                "items": [{"sku": sku, "quantity": 1}],
                "card_token": "tok_visa",
            },
        )


def outbound(shop: RunningSystem, dependency: str) -> tuple[float, float, float]:
    """orders' attempts to `dependency`: (count, total seconds, connect errors)."""
    snapshot = scrape(shop.url("orders") + "/metrics")
    labels = {"service": "orders", "dependency": dependency}
    count = snapshot.value("shop_outbound_request_duration_seconds_count", **labels) or 0.0
    total = snapshot.value("shop_outbound_request_duration_seconds_sum", **labels) or 0.0
    refused = snapshot.value("shop_outbound_requests_total", outcome="connect_error", **labels)
    return count, total, refused or 0.0


def mean_since(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
    calls = after[0] - before[0]
    assert calls > 0
    return (after[1] - before[1]) / calls


def test_the_reference_system_comes_up_with_a_proxy_on_every_edge(shop: RunningSystem) -> None:
    assert set(shop.services) == set(SERVICES)
    assert len(shop.edges) == 8
    proxies = shop.faults.client.proxies()
    assert set(proxies) == set(shop.edges)
    for service in shop.services.values():
        assert http_clients.get(service.url + "/health", timeout=5).status_code == 200
    assert (Path(shop.run_dir) / "orders.db").is_file()  # its own SQLite file in the run dir


def test_latency_on_orders_to_payments_slows_only_that_edge(faults_reset: RunningSystem) -> None:
    shop = faults_reset
    payments_before, inventory_before = outbound(shop, "payments"), outbound(shop, "inventory")
    shop.faults.add_toxic("orders->payments", "latency", attributes={"latency": LATENCY_MS})
    order = place_order(shop, "SKU-100")
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "confirmed"
    slowed = mean_since(payments_before, outbound(shop, "payments"))
    other = mean_since(inventory_before, outbound(shop, "inventory"))
    assert slowed >= LATENCY_MS / 1000
    assert other < LATENCY_MS / 1000


def test_a_disabled_orders_to_payments_proxy_means_connection_refused(
    faults_reset: RunningSystem,
) -> None:
    shop = faults_reset
    before = outbound(shop, "payments")
    shop.faults.partition("orders->payments")
    order = place_order(shop, "SKU-200")
    assert outbound(shop, "payments")[2] > before[2]  # orders saw its connects refused
    # No charge could be made: the order is not confirmed (the gateway answers with its own
    # 503, or with the order cancelled).
    assert order.status_code != 201, order.text
    body = order.json()
    assert body.get("order", body).get("status") != "confirmed", order.text
