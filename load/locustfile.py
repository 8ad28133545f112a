"""Shop traffic through the gateway: people browse the catalogue, place orders, look at them.

Each simulated user signs up once (POST /api/users), then, with think time between steps:

- browses (weight 6): the product list, then one product;
- places an order (weight 2) with a fresh `Idempotency-Key`; now and then (5 %) the client
  "retries" the same request, which must return the same order (200), not a second one;
  a small share pays with `tok_declined`, whose 402 is the right answer, not a failure;
- views one of its orders (weight 2); a `degraded` answer (payment or user part missing
  while a dependency is down) is a designed outcome and counts as a success.

Every request carries a bearer token and its own `X-Request-ID` (grep the services' JSON
logs for it); names group URLs with ids (`GET /api/orders/{id}`), so SLOs and reports have
one line per route.

Environment (all optional): SHOP_TOKEN (demo-token), SHOP_WAIT_MIN / SHOP_WAIT_MAX seconds of
think time (0.5 / 1.5), SHOP_DECLINE_SHARE (0.05), SHOP_REPLAY_SHARE (0.05). The harness sets
HARNESS_SERVICE_URL_INVENTORY, which is used once, at test start, to create the products
orders are placed against (the gateway has no route to create products), and
HARNESS_LOAD_INITIAL_STOCK, where the stock of the products created here is recorded so the
invariants can check stock conservation (products that already existed are left out: their
stock at creation is unknown).
"""

from __future__ import annotations

import json
import logging
import os
import random
import urllib.error
import urllib.request
import uuid
from collections import deque
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

log = logging.getLogger("shop.load")

TOKEN = os.environ.get("SHOP_TOKEN", "demo-token")
WAIT_MIN = float(os.environ.get("SHOP_WAIT_MIN", "0.5"))
WAIT_MAX = float(os.environ.get("SHOP_WAIT_MAX", "1.5"))
DECLINE_SHARE = float(os.environ.get("SHOP_DECLINE_SHARE", "0.05"))
REPLAY_SHARE = float(os.environ.get("SHOP_REPLAY_SHARE", "0.05"))

# Products the load orders from: plenty of stock, so a long run never sells out.
SEED_SKUS = [f"SKU-77{n:04d}" for n in range(1, 11)]
SEED_STOCK = 10_000_000


def seed_products(inventory_url: str) -> dict[str, int]:
    """Create the load's products on the inventory service; existing ones are kept.

    Returns the stock of each product created here (the stock it starts with)."""
    created: dict[str, int] = {}
    for index, sku in enumerate(SEED_SKUS):
        body = {"sku": sku, "name": f"Load item {index + 1}", "price_cents": 500 + 100 * index}
        request = urllib.request.Request(
            f"{inventory_url.rstrip('/')}/products",
            data=json.dumps({**body, "stock": SEED_STOCK}).encode(),
            headers={"Content-Type": "application/json", "X-Request-ID": f"load-seed-{sku}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                created[sku] = SEED_STOCK
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: it exists from an earlier run, which is fine
                raise
    return created


def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # the master (or the standalone runner) seeds once
    inventory = os.environ.get("HARNESS_SERVICE_URL_INVENTORY")
    if not inventory:
        log.warning("HARNESS_SERVICE_URL_INVENTORY not set: products are not seeded")
        return
    created = seed_products(inventory)
    log.info("seeded %d products on %s", len(created), inventory)
    stock_file = os.environ.get("HARNESS_LOAD_INITIAL_STOCK")
    if stock_file:
        with open(stock_file, "w", encoding="utf-8") as out:
            json.dump(created, out)


events.test_start.add_listener(_on_test_start)


def request_headers(**extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {TOKEN}",
        "X-Request-ID": f"load-{uuid.uuid4().hex}",
        **extra,
    }


class ShopUser(FastHttpUser):
    """One shopper: signs up, then browses, orders and checks orders."""

    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.user_id: int | None = None
        self.skus: list[str] = []
        self.order_ids: deque[int] = deque(maxlen=20)
        email = f"load-{uuid.uuid4().hex}@example.com"
        with self.client.post(
            "/api/users",
            json={"name": "Load Shopper", "email": email},
            headers=request_headers(),
            name="POST /api/users",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.user_id = int(response.json()["id"])
            else:
                response.failure(_describe(response))
        self._load_catalogue()

    def _load_catalogue(self) -> None:
        with self.client.get(
            "/api/products?limit=100",
            headers=request_headers(),
            name="GET /api/products",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(_describe(response))
                return
            items = response.json()["items"]
        in_stock = [item["sku"] for item in items if item["stock"] > 0]
        seeded = [sku for sku in in_stock if sku in SEED_SKUS]
        self.skus = seeded or in_stock

    @task(6)
    def browse(self) -> None:
        self._load_catalogue()
        if self.skus:
            self.client.get(
                f"/api/products/{random.choice(self.skus)}",
                headers=request_headers(),
                name="GET /api/products/{sku}",
            )

    @task(2)
    def place_order(self) -> None:
        if self.user_id is None or not self.skus:
            return
        declined = random.random() < DECLINE_SHARE
        body = {
            "user_id": self.user_id,
            "items": [
                {"sku": sku, "quantity": random.randint(1, 3)}
                for sku in random.sample(self.skus, k=min(len(self.skus), random.randint(1, 2)))
            ],
            "card_token": "tok_declined" if declined else "tok_visa",
        }
        key = f"load-{uuid.uuid4().hex}"
        order_id = self._post_order(body, key, declined=declined, name="POST /api/orders")
        if order_id is not None and random.random() < REPLAY_SHARE:
            replayed = self._post_order(
                body, key, declined=declined, name="POST /api/orders (replay)", replay=True
            )
            if replayed is not None and replayed != order_id:
                events.request.fire(
                    request_type="CHECK",
                    name="idempotent replay",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError(f"replay gave order {replayed}, not {order_id}"),
                    context={},
                )

    def _post_order(
        self, body: dict[str, Any], key: str, *, declined: bool, name: str, replay: bool = False
    ) -> int | None:
        expected = {200} if replay else {201}
        if declined:
            expected |= {402}
        with self.client.post(
            "/api/orders",
            json=body,
            headers=request_headers(**{"Idempotency-Key": key}),
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code not in expected:
                response.failure(_describe(response))
                return None
            response.success()  # a 402 for a declined card is the right answer
            payload = response.json()
            order = payload.get("order", payload)
            if response.status_code in (200, 201):
                self.order_ids.append(int(order["id"]))
            return int(order["id"])

    @task(2)
    def view_order(self) -> None:
        if not self.order_ids:
            return
        with self.client.get(
            f"/api/orders/{random.choice(self.order_ids)}",
            headers=request_headers(),
            name="GET /api/orders/{id}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(_describe(response))


def _describe(response: Any) -> str:
    """`503 dependency_unavailable (payments)`: the status and the error code of the body."""
    try:
        body = response.json()
    except Exception:  # not JSON: the status alone says enough
        return f"{response.status_code}"
    if not isinstance(body, dict):
        return f"{response.status_code}"
    dependency = f" ({body['dependency']})" if body.get("dependency") else ""
    return f"{response.status_code} {body.get('error', '')}{dependency}".strip()
