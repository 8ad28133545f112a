"""Timeout budget along the call chain: orders answers inside the gateway's timeout.

The gateway waits GATEWAY_ORDERS_TIMEOUT (5 s) for POST /orders. With a dependency of the
saga hanging (a black hole: the connection is accepted, nothing comes back), orders spends
its own read timeout (1 s) times its attempts (3) on the charge, plus backoff, then as many
again settling the unknown charge by its key: about 6 s, so the gateway gave up first and
the client saw the gateway's timeout, not orders' answer (chaos/detection/14 found it).
Orders now answers within ORDERS_ANSWER_WITHIN (4 s) of the request: the saga goes on in the
background and its outcome is what the same Idempotency-Key gets later.

Real processes: the shop from its topology, the fault proxy's `timeout` toxic on
orders->payments.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from shop_process_driver import ShopDriver, wait_until

from harness import http_clients
from harness.runtime import start_system
from harness.topology import load_topology

ROOT = Path(__file__).parents[3]
TOPOLOGY = ROOT / "target-system" / "system.toml"
GATEWAY_ORDERS_TIMEOUT = 5.0  # the gateway's default, target-system/README.md

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopDriver]:
    with start_system(load_topology(TOPOLOGY), home=tmp_path_factory.mktemp("home")) as running:
        yield ShopDriver(running)


def test_an_order_whose_charge_hangs_is_answered_within_the_gateways_budget(
    driver: ShopDriver,
) -> None:
    shop = driver.system
    user, sku = driver.new_user(), driver.new_product(stock=5)
    body, key = driver.order_body(user, sku), {"Idempotency-Key": f"budget-{uuid.uuid4().hex}"}
    orders = shop.url("orders")

    with shop.faults.toxic("orders->payments", "timeout", attributes={"timeout": 0}):
        started = time.monotonic()
        answer = http_clients.post(f"{orders}/orders", json=body, headers=key, timeout=30)
        took = time.monotonic() - started
        assert took < GATEWAY_ORDERS_TIMEOUT, (
            f"orders answered after {took:.1f} s, later than the gateway waits for it "
            f"({GATEWAY_ORDERS_TIMEOUT} s): {answer.status_code} {answer.text}"
        )
        # Not yet decided: the saga is still settling the charge whose outcome is unknown.
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "saga_in_progress", answer.text
        order_id = answer.json()["order"]["id"]

    # Payments answers again: the saga ends on its own, and the key gives its outcome.
    order = wait_until(
        lambda: (o := driver.order(order_id))["status"] != "pending" and o,
        timeout=60,
        what=f"order {order_id} settled after the hang",
    )
    replay = http_clients.post(f"{orders}/orders", json=body, headers=key, timeout=30)
    expected = {"confirmed": 200, "cancelled": 503}[order["status"]]
    assert replay.status_code == expected, replay.text
    assert replay.headers.get("Idempotent-Replayed") == "true"
    driver.wait_for_invariants()
