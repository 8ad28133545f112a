"""The reference shop's chaos traffic: orders through the gateway, walking every path.

Experiments name it as `method.traffic.class: shop_traffic.py:ShopTraffic` (its
`options` are the keywords of `ShopTraffic`); it follows the harness's traffic protocol
(`harness.traffic.source`): `setup` creates one user and fresh products and returns the
products' initial stock (`initial_stock`, which `shop_invariants.py` uses to check that
stock is conserved); `request` sends the `index`-th request of the run.

Request names are the paths walked, each with the answers the shop's contract gives
(target-system/README.md):

| name | what | expected |
|---|---|---|
| `place_order` | an order that should be confirmed | 201 |
| `place_order_declined` | paid with `tok_declined`: declined, stock released | 402 |
| `place_order_unknown_user` | for a user that does not exist: nothing reserved or charged | 422 |
| `place_order_out_of_stock` | more than the product ever had | 409 |
| `place_order_contended` | 1 unit of the scarce product every thread orders from | 201 or 409 |
| `place_order_replay` | an earlier `place_order` again, same key and body | 200, same order |
| `create_user` | `POST /api/users`, a write with no idempotency key | 201 |
| `get_order` | one of the orders placed (a `degraded` answer is a 200) | 200 |
| `get_user` / `list_products` | reads | 200 |

Paths are dealt by `mix` weights (`harness.traffic.WeightedDeck`): with the default mix
every 14 requests hold 3 declined orders, so a 35-request run has at least 7. One seed
gives one sequence of requests; which order a `get_order` reads depends on the answers.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.traffic import TrafficError, TrafficRecord, WeightedDeck, request_rng, send

__all__ = ["DEFAULT_MIX", "PATHS", "ShopTraffic"]

PATHS = (
    "place_order",
    "place_order_declined",
    "place_order_unknown_user",
    "place_order_out_of_stock",
    "place_order_contended",
    "place_order_replay",
    "create_user",
    "get_order",
    "get_user",
    "list_products",
)
DEFAULT_MIX: dict[str, int] = {
    "place_order": 5,
    "place_order_declined": 3,
    "place_order_unknown_user": 1,
    "place_order_out_of_stock": 1,
    "place_order_contended": 1,
    "place_order_replay": 1,
    "create_user": 1,
    "get_order": 1,
}
UNKNOWN_USER_ID = 2_000_000_000  # no test run creates that many users
REPLAY_DISTANCE = 4  # a replay repeats an order at least this many requests older


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway: str = "gateway"
    inventory: str = "inventory"
    token: str = "demo-token"
    card_token: str = "tok_visa"
    declined_card_token: str = "tok_declined"
    products: int = Field(default=2, ge=1, le=20)
    stock: int = Field(default=10_000, ge=1)
    scarce_stock: int = Field(default=6, ge=1)
    price_cents: int = Field(default=1_000, ge=1)
    quantity: tuple[int, int] = (1, 2)
    mix: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_MIX))

    @model_validator(mode="after")
    def _sane(self) -> _Options:
        low, high = self.quantity
        if not 1 <= low <= high:
            raise ValueError(
                f"`quantity` must be [low, high] with 1 <= low <= high, got {low, high}"
            )
        unknown = sorted(set(self.mix) - set(PATHS))
        if unknown:
            raise ValueError(
                f"unknown paths in `mix`: {', '.join(unknown)}; known: {', '.join(PATHS)}"
            )
        if any(weight < 0 for weight in self.mix.values()) or not any(self.mix.values()):
            raise ValueError("`mix` weights are whole numbers >= 0, at least one above 0")
        return self


class ShopTraffic:
    """Orders and reads through the shop's gateway; keywords are the `options`.

    Args:
        gateway / inventory: service names (inventory creates the products).
        token: the gateway bearer token; card_token / declined_card_token: cards that pay
            and that payments declines.
        products / stock: how many products orders are placed against, and their stock.
        scarce_stock: stock of the one product `place_order_contended` orders race for.
        quantity: [low, high] units per order.
        mix: weight of each path (default `DEFAULT_MIX`).
    """

    def __init__(self, **options: Any) -> None:
        self.options = _Options(**options)
        self._seed = 0
        self._run_id = ""
        self._gateway = ""
        self._user_id = 0
        self._skus: list[str] = []
        self._scarce = ""
        self._deck: WeightedDeck | None = None
        self._lock = threading.Lock()
        self._orders: list[int] = []
        self._answers: dict[int, tuple[int | None, int | None]] = {}

    # -- setup --------------------------------------------------------------------------

    def setup(self, system: Any, seed: int, client: httpx.Client) -> Mapping[str, Any]:
        """Create the user (through the gateway) and fresh products (in inventory)."""
        opts = self.options
        self._seed = seed
        self._run_id = f"{random.SystemRandom().randrange(10**8):08d}"
        self._gateway = system.url(opts.gateway).rstrip("/")
        inventory = system.url(opts.inventory).rstrip("/")
        self._deck = WeightedDeck(opts.mix, seed)
        user = self._create(
            client,
            f"{self._gateway}/api/users",
            {"name": f"chaos {self._run_id}", "email": f"chaos-{self._run_id}@example.com"},
        )
        self._user_id = int(user["id"])
        stock: dict[str, int] = {}
        for index in range(opts.products):
            sku = f"SKU-{self._run_id}{index:02d}"
            self._create_product(client, inventory, sku, f"chaos product {index}", opts.stock)
            stock[sku] = opts.stock
        self._skus = sorted(stock)
        if opts.mix.get("place_order_contended"):
            self._scarce = f"SKU-{self._run_id}99"
            self._create_product(client, inventory, self._scarce, "scarce", opts.scarce_stock)
            stock[self._scarce] = opts.scarce_stock
        return {"initial_stock": stock}

    def _create_product(
        self, client: httpx.Client, inventory: str, sku: str, name: str, stock: int
    ) -> None:
        body = {"sku": sku, "name": name, "price_cents": self.options.price_cents, "stock": stock}
        self._create(client, f"{inventory}/products", body)

    def _create(self, client: httpx.Client, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        last = ""
        for attempt in range(3):
            try:
                response = client.post(url, json=dict(body), headers=self._auth())
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.status_code in (200, 201):
                    data: dict[str, Any] = response.json()
                    return data
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            threading.Event().wait(0.3 * (attempt + 1))
        raise TrafficError(f"shop traffic setup: POST {url} failed: {last}")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.token}"}

    # -- one request --------------------------------------------------------------------

    def _plan(self, index: int) -> tuple[str, int, int]:
        """(path, product, quantity) of the `index`-th request: a function of seed and index."""
        assert self._deck is not None, "setup() first"
        rng = request_rng(self._seed, index)
        low, high = self.options.quantity
        return self._deck.name(index), rng.randrange(len(self._skus)), rng.randint(low, high)

    def _order_body(
        self, product: int, quantity: int, *, card: str | None = None
    ) -> dict[str, Any]:
        return {
            "user_id": self._user_id,
            "items": [{"sku": self._skus[product], "quantity": quantity}],
            "card_token": card or self.options.card_token,
        }

    def request(self, index: int, client: httpx.Client) -> TrafficRecord:
        path, product, quantity = self._plan(index)
        opts = self.options
        if path == "place_order_replay":
            return self._replay(index, client)
        if path.startswith("place_order"):
            body = self._order_body(product, quantity)
            expect: tuple[int, ...] = (201,)
            if path == "place_order_declined":
                body["card_token"] = opts.declined_card_token
                expect = (402,)
            elif path == "place_order_unknown_user":
                body["user_id"] = UNKNOWN_USER_ID
                expect = (422,)
            elif path == "place_order_out_of_stock":
                body["items"][0]["quantity"] = opts.stock + 1
                expect = (409,)
            elif path == "place_order_contended":
                body["items"] = [{"sku": self._scarce, "quantity": 1}]
                expect = (201, 409)
            return self._place(index, path, body, expect, client)
        if path == "create_user":
            email = f"chaos-{self._run_id}-{index}@example.com"
            record, _ = send(
                client,
                path,
                "POST",
                f"{self._gateway}/api/users",
                expect=(201,),
                json={"name": f"chaos {index}", "email": email},
                headers=self._auth(),
            )
            return record
        if path == "get_order":
            with self._lock:
                known = list(self._orders)
            if known:
                order_id = known[request_rng(self._seed, index).randrange(len(known))]
                url = f"{self._gateway}/api/orders/{order_id}"
                return send(client, path, "GET", url, expect=(200,), headers=self._auth())[0]
            path = "list_products"
        if path == "get_user":
            url = f"{self._gateway}/api/users/{self._user_id}"
            return send(client, path, "GET", url, expect=(200,), headers=self._auth())[0]
        url = f"{self._gateway}/api/products"
        return send(client, "list_products", "GET", url, expect=(200,), headers=self._auth())[0]

    def _key(self, index: int) -> str:
        return f"chaos-{self._run_id}-{index}"

    def _place(
        self,
        index: int,
        path: str,
        body: dict[str, Any],
        expect: tuple[int, ...],
        client: httpx.Client,
        *,
        data: Mapping[str, Any] | None = None,
        remember: bool = True,
    ) -> TrafficRecord:
        record, response = send(
            client,
            path,
            "POST",
            f"{self._gateway}/api/orders",
            expect=expect,
            json=body,
            headers={**self._auth(), "Idempotency-Key": self._key(index)},
        )
        order_id = _order_id(response)
        if remember:
            with self._lock:
                self._answers[index] = (record.status, order_id)
                if order_id is not None and record.status == 201:
                    self._orders.append(order_id)
        if order_id is None and not data:
            return record
        return TrafficRecord(
            name=record.name,
            started_at=record.started_at,
            latency=record.latency,
            status=record.status,
            error=record.error,
            data={**(data or {}), **({"order_id": order_id} if order_id is not None else {})},
            expected=record.expected,
        )

    def _replay(self, index: int, client: httpx.Client) -> TrafficRecord:
        """The newest `place_order` at least `REPLAY_DISTANCE` requests older, sent again
        with its key and body: the shop must answer 200 with the same order (or, for an
        order that failed, that failure). With none that old yet, a plain order."""
        original = next(
            (
                j
                for j in range(index - REPLAY_DISTANCE, -1, -1)
                if self._plan(j)[0] == "place_order"
            ),
            None,
        )
        if original is None:
            _, product, quantity = self._plan(index)
            return self._place(
                index, "place_order", self._order_body(product, quantity), (201,), client
            )
        _, product, quantity = self._plan(original)
        with self._lock:
            status, first_id = self._answers.get(original, (None, None))
        expect = {200} | ({status} if status not in (None, 201) else set())
        if first_id is None and (status is None or status >= 500):
            # the original failed before any order was written (e.g. its user check found
            # users down): the replay is the first to place it
            expect.add(201)
        record = self._place(
            original,
            "place_order_replay",
            self._order_body(product, quantity),
            tuple(sorted(expect)),
            client,
            data={"replay_of": self._key(original)},
            remember=False,
        )
        replayed = record.data.get("order_id")
        if record.status == 200 and first_id is not None and replayed != first_id:
            return TrafficRecord(
                name=record.name,
                started_at=record.started_at,
                latency=record.latency,
                status=record.status,
                error=f"replay answered order {replayed}, the original was {first_id}",
                data=record.data,
                expected=False,
            )
        return record


def _order_id(response: httpx.Response | None) -> int | None:
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    order = body.get("order", body)
    value = order.get("id") if isinstance(order, dict) else None
    return value if isinstance(value, int) else None
