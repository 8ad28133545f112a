"""A provider frozen longer than its callers wait, then resumed, while orders flow.

SIGSTOP leaves the kernel accepting connections for the frozen process: every request sent
meanwhile waits in its sockets and is served when it resumes, long after its caller gave
up. That is where a saga that concluded "not charged" (or "not reserved") from a look-up
met a charge (or reservation) that committed afterwards. Real processes, the shop's default
timeouts (1 s per attempt), the harness runtime's pause/resume.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from shop_process_driver import ShopDriver, wait_until

from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

ROOT = Path(__file__).parents[3]
TOPOLOGY = ROOT / "target-system" / "system.toml"
# orders keeps the shop's defaults (1 s per attempt, 3 attempts); its breakers retry soon.
ENV = {"BREAKER_OPEN_SECONDS": "1"}
CLIENTS = 6
FREEZE_AFTER_SECONDS = 1.0
# Longer than orders' three attempts at 1 s each, with backoff, and its settling call.
FROZEN_SECONDS = 5.0
FLOW_SECONDS = FREEZE_AFTER_SECONDS + FROZEN_SECONDS + 1.0
# Between a client's answer and its next order: with none, the fast 503s of an open breaker
# came back to back (thousands of orders, each then replayed and checked: 40 s of CPU)
# while a handful in flight at the freeze is what the scenario needs.
PAUSE_SECONDS = 0.05

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopDriver]:
    topology = load_topology(TOPOLOGY)
    system = topology.system.model_copy(update={"env": {**topology.system.env, **ENV}})
    with start_system(
        topology.model_copy(update={"system": system}), home=tmp_path_factory.mktemp("home")
    ) as running:
        yield ShopDriver(running)


def _frozen_while_orders_flow(driver: ShopDriver, service: str) -> list[httpx.Response]:
    """Orders placed back to back by a few clients; `service` frozen in the middle of it."""
    system: RunningSystem = driver.system
    user, sku = driver.new_user(), driver.new_product(stock=1000)
    body = driver.order_body(user, sku)
    stop_at = time.monotonic() + FLOW_SECONDS

    def client_loop(_: int) -> list[httpx.Response]:
        answers = []
        # Straight to orders: its answer carries the order (the gateway gives up with its own).
        with driver.client("orders") as orders:
            while time.monotonic() < stop_at:
                key = {"Idempotency-Key": f"frozen-{uuid.uuid4().hex}"}
                answers.append(orders.post("/orders", json=body, headers=key))
                time.sleep(PAUSE_SECONDS)
        return answers

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        flows = [pool.submit(client_loop, n) for n in range(CLIENTS)]
        time.sleep(FREEZE_AFTER_SECONDS)
        system.pause(service)
        try:
            time.sleep(FROZEN_SECONDS)
        finally:
            system.resume(service)
        return [answer for flow in flows for answer in flow.result()]


@pytest.mark.parametrize("service", ["payments", "inventory"])
def test_orders_placed_while_a_provider_is_frozen_end_charged_once_or_not_at_all(
    driver: ShopDriver, service: str
) -> None:
    answers = _frozen_while_orders_flow(driver, service)

    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] >= CLIENTS, f"the freeze failed no order: {statuses}"
    # What the frozen provider still had queued is served now; the sagas settle after it.
    wait_until(
        lambda: not driver.sagas_in_flight(), timeout=60, what="every saga ended after resume"
    )
    report = driver.wait_for_invariants(timeout=30)
    assert report.ok, report.summary()
    for answer in answers:
        if answer.status_code == 201 or "order" not in answer.json():
            continue  # confirmed, or refused before an order existed (pricing timed out)
        first = answer.json()["order"]
        order = driver.order(first["id"])
        # A cancelled answer stays cancelled; a pending one (a compensation or a confirmation
        # to retry) ends either way, and a replay of its key then tells which, never a
        # success for a failure.
        assert order["status"] in ("confirmed", "cancelled")
        if first["status"] == "cancelled":
            assert order["status"] == "cancelled"
        if order["status"] == "cancelled":
            captured = [p for p in driver.payments_for(order["id"]) if p["status"] == "captured"]
            assert captured == [], f"order {order['id']} was cancelled and kept a charge"
            held = [r for r in driver.reservations_for(order["id"]) if r["status"] == "held"]
            assert held == [], f"order {order['id']} was cancelled and kept stock held"
        replay = _replay(driver, answer)
        expected = 200 if order["status"] == "confirmed" else answer.status_code
        assert replay.status_code == expected, replay.text


def _replay(driver: ShopDriver, answer: httpx.Response) -> httpx.Response:
    request = answer.request
    with driver.client("orders") as orders:
        return orders.post(
            "/orders",
            content=request.content,
            headers={
                "Idempotency-Key": request.headers["Idempotency-Key"],
                "Content-Type": "application/json",
            },
        )
