"""Shop traffic through the gateway, walking every path of an order, seeded.

Each simulated user signs up once (POST /api/users), then takes steps with think time
between them. Steps are dealt from a deck (`harness.traffic.WeightedDeck`) drawn from
`SHOP_SEED` and the user's number, so every path is walked in every round of the deck and
two runs with one seed walk the same paths (their timing is up to the system):

| step (weight) | request name | expected |
|---|---|---|
| browse (3) | `GET /api/products`, then `GET /api/products/{sku}` | 200 |
| order (3) | `POST /api/orders` | 201 |
| declined (2) | `POST /api/orders (declined)`: paid with `tok_declined` | 402 |
| unknown_user (1) | `POST /api/orders (unknown user)` | 422 |
| out_of_stock (1) | `POST /api/orders (out of stock)`: more than any product has | 409 |
| contended (1) | `POST /api/orders (contended)`: every user orders the same product | 201 |
| replay (1) | `POST /api/orders (replay)`: the last order, same key and body | 200, same order |
| signup (1) | `POST /api/users`: a write with no idempotency key | 201 |
| view (2) | `GET /api/orders/{id}` (a `degraded` answer is a 200) | 200 |

The answer a path expects counts as a success; the request names give one line per path
in Locust's statistics and the report, so each path's count is printed.

Every request carries a bearer token and its own `X-Request-ID` (grep the services' JSON
logs for it).

Environment (all optional): SHOP_SEED (0), SHOP_MIX (weights replacing the defaults above,
`browse=12,declined=3`), SHOP_TOKEN (demo-token), SHOP_WAIT_MIN / SHOP_WAIT_MAX seconds of
think time (0.5 / 1.5). The harness sets HARNESS_SERVICE_URL_INVENTORY, which is used once,
at test start, to create the products orders are placed against (the gateway has no route
to create products), and HARNESS_LOAD_INITIAL_STOCK, where the stock of the products
created here is recorded so the invariants can check stock conservation (products that
already existed are left out: their stock at creation is unknown).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import urllib.error
import urllib.request
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

from harness.traffic import WeightedDeck

log = logging.getLogger("shop.load")

SEED = int(os.environ.get("SHOP_SEED", "0"))
TOKEN = os.environ.get("SHOP_TOKEN", "demo-token")
WAIT_MIN = float(os.environ.get("SHOP_WAIT_MIN", "0.5"))
WAIT_MAX = float(os.environ.get("SHOP_WAIT_MAX", "1.5"))
DEFAULT_MIX = {
    "browse": 3,
    "order": 3,
    "declined": 2,
    "unknown_user": 1,
    "out_of_stock": 1,
    "contended": 1,
    "replay": 1,
    "signup": 1,
    "view": 2,
}
UNKNOWN_USER_ID = 2_000_000_000  # no run creates that many users

# Products the load orders from: plenty of stock, so a long run never sells out.
SEED_SKUS = [f"SKU-77{n:04d}" for n in range(1, 11)]
SEED_STOCK = 10_000_000
HOT_SKU = SEED_SKUS[0]  # the product every `contended` order goes to


def parse_mix(text: str) -> dict[str, int]:
    """`browse=12,declined=3` over the default weights; unknown steps are an error."""
    mix = dict(DEFAULT_MIX)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name.strip() not in DEFAULT_MIX or not weight.strip().isdigit():
            raise ValueError(
                f"SHOP_MIX: expected step=weight with a step among {', '.join(DEFAULT_MIX)}, "
                f"got {part!r}"
            )
        mix[name.strip()] = int(weight)
    return mix


MIX = parse_mix(os.environ.get("SHOP_MIX", ""))
_USER_NUMBERS = itertools.count()


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


class ShopUser(FastHttpUser):
    """One shopper: signs up, then takes the steps its deck deals."""

    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.number = next(_USER_NUMBERS)
        seed = f"{SEED}:user:{self.number}"
        self.rng = random.Random(seed)
        self.deck = WeightedDeck(MIX, hash_seed(seed))
        self.steps = 0
        self.requests = 0
        self.user_id: int | None = None
        self.skus: list[str] = []
        self.order_ids: list[int] = []
        self.last_order: tuple[dict[str, Any], str, int] | None = None
        self.user_id = self._signup()
        self._load_catalogue()

    def _headers(self, **extra: str) -> dict[str, str]:
        self.requests += 1
        return {
            "Authorization": f"Bearer {TOKEN}",
            "X-Request-ID": f"load-{SEED}-{self.number}-{self.requests}",
            **extra,
        }

    def _signup(self) -> int | None:
        email = f"load-{SEED}-{self.number}-{self.rng.getrandbits(48):012x}@example.com"
        with self.client.post(
            "/api/users",
            json={"name": "Load Shopper", "email": email},
            headers=self._headers(),
            name="POST /api/users",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                return int(response.json()["id"])
            response.failure(_describe(response))
        return None

    def _load_catalogue(self) -> None:
        with self.client.get(
            "/api/products?limit=100",
            headers=self._headers(),
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

    @task
    def step(self) -> None:
        name = self.deck.name(self.steps)
        self.steps += 1
        getattr(self, "_signup_step" if name == "signup" else f"_{name}")()

    # -- the steps ------------------------------------------------------------------------

    def _browse(self) -> None:
        self._load_catalogue()
        if self.skus:
            self.client.get(
                f"/api/products/{self.rng.choice(self.skus)}",
                headers=self._headers(),
                name="GET /api/products/{sku}",
            )

    def _signup_step(self) -> None:
        self._signup()

    def _body(
        self, *, card: str = "tok_visa", items: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        picked = self.rng.sample(self.skus, k=min(len(self.skus), self.rng.randint(1, 2)))
        return {
            "user_id": self.user_id,
            "items": items or [{"sku": sku, "quantity": self.rng.randint(1, 3)} for sku in picked],
            "card_token": card,
        }

    def _order(self) -> None:
        if self.user_id is None or not self.skus:
            return
        body, key = self._body(), self._key()
        order_id = self._post_order(body, key, {201}, "POST /api/orders")
        if order_id is not None:
            self.order_ids = [*self.order_ids[-19:], order_id]
            self.last_order = (body, key, order_id)

    def _declined(self) -> None:
        if self.user_id is not None and self.skus:
            body = self._body(card="tok_declined")
            self._post_order(body, self._key(), {402}, "POST /api/orders (declined)")

    def _unknown_user(self) -> None:
        if self.skus:
            body = {**self._body(), "user_id": UNKNOWN_USER_ID}
            self._post_order(body, self._key(), {422}, "POST /api/orders (unknown user)")

    def _out_of_stock(self) -> None:
        if self.user_id is not None and self.skus:
            items = [{"sku": self.rng.choice(self.skus), "quantity": SEED_STOCK + 1}]
            body = self._body(items=items)
            self._post_order(body, self._key(), {409}, "POST /api/orders (out of stock)")

    def _contended(self) -> None:
        if self.user_id is not None:
            body = self._body(items=[{"sku": HOT_SKU, "quantity": 1}])
            order_id = self._post_order(body, self._key(), {201}, "POST /api/orders (contended)")
            if order_id is not None:
                self.order_ids = [*self.order_ids[-19:], order_id]

    def _replay(self) -> None:
        if self.last_order is None:
            self._order()
            return
        body, key, order_id = self.last_order
        replayed = self._post_order(body, key, {200}, "POST /api/orders (replay)")
        if replayed is not None and replayed != order_id:
            events.request.fire(
                request_type="CHECK",
                name="idempotent replay",
                response_time=0,
                response_length=0,
                exception=AssertionError(f"replay gave order {replayed}, not {order_id}"),
                context={},
            )

    def _view(self) -> None:
        if not self.order_ids:
            self._browse()
            return
        with self.client.get(
            f"/api/orders/{self.rng.choice(self.order_ids)}",
            headers=self._headers(),
            name="GET /api/orders/{id}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(_describe(response))

    # -- helpers --------------------------------------------------------------------------

    def _key(self) -> str:
        return f"load-{SEED}-{self.number}-{self.rng.getrandbits(64):016x}"

    def _post_order(
        self, body: dict[str, Any], key: str, expected: set[int], name: str
    ) -> int | None:
        with self.client.post(
            "/api/orders",
            json=body,
            headers=self._headers(**{"Idempotency-Key": key}),
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code not in expected:
                response.failure(_describe(response))
                return None
            response.success()  # a 402 for a declined card is the right answer
            try:
                payload = response.json()
            except ValueError:
                return None
            order = payload.get("order", payload) if isinstance(payload, dict) else {}
            value = order.get("id") if isinstance(order, dict) else None
            return value if isinstance(value, int) else None


def hash_seed(text: str) -> int:
    """A stable integer from a text seed (Python's `hash` of a str changes per process)."""
    return random.Random(text).getrandbits(63)


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
