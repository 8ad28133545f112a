"""Driving the reference shop brought up as real processes: the calls the integration tests
share (create a user or a product, place an order, read what each service recorded), and
`wait_until`, so tests wait for a condition with a deadline instead of sleeping."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from harness import http_clients
from harness.chaos.invariants import InvariantReport, resolve_invariant
from harness.runtime import RunningSystem

CHAOS_DIR = Path(__file__).parents[3] / "chaos"
check_shop_invariants = resolve_invariant(
    "shop_invariants.py:check_shop_invariants", base_dir=CHAOS_DIR
)

TOKEN = {"Authorization": "Bearer demo-token"}
PRICE_CENTS = 250
Json = dict[str, Any]
T = TypeVar("T")

_skus = itertools.count(int(time.time()) % 1_000_000 * 1000)


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.05, what: str
) -> T:
    """The first truthy value `probe` returns, polling until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what} (last seen: {last!r})")
        time.sleep(interval)


class ShopDriver:
    """A running shop, and every product created through it with its initial stock."""

    def __init__(self, system: RunningSystem) -> None:
        self.system = system
        self.initial_stock: dict[str, int] = {}

    @contextmanager
    def client(self, service: str, *, timeout: float = 30.0) -> Iterator[httpx.Client]:
        """A client for `service`'s own port (the gateway's carries the demo token)."""
        headers = TOKEN if service == "gateway" else None
        with http_clients.client(
            base_url=self.system.url(service), headers=headers, timeout=timeout
        ) as client:
            yield client

    def get(self, service: str, path: str, **params: Any) -> Json:
        with self.client(service) as client:
            response = client.get(path, params=params)
        assert response.status_code == 200, f"GET {service} {path}: {response.text}"
        body: Json = response.json()
        return body

    # -- making things -------------------------------------------------------------------------

    def new_user(self) -> int:
        with self.client("gateway") as gateway:
            response = gateway.post(
                "/api/users", json={"name": "Ada", "email": f"ada-{uuid.uuid4().hex}@example.com"}
            )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def new_product(self, *, stock: int = 10) -> str:
        sku = f"SKU-{next(_skus)}"
        product = {"sku": sku, "name": "Mug", "price_cents": PRICE_CENTS, "stock": stock}
        with self.client("inventory") as inventory:
            response = inventory.post("/products", json=product)
        assert response.status_code == 201, response.text
        self.initial_stock[sku] = stock
        return sku

    @staticmethod
    def order_body(user_id: int, sku: str, *, quantity: int = 1, card: str = "tok_visa") -> Json:
        return {
            "user_id": user_id,
            "items": [{"sku": sku, "quantity": quantity}],
            "card_token": card,
        }

    def place_order(
        self, body: Json, *, key: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST /api/orders through the gateway with a fresh (or the given) Idempotency-Key."""
        sent = {"Idempotency-Key": key or f"it-{uuid.uuid4().hex}", **(headers or {})}
        with self.client("gateway") as gateway:
            return gateway.post("/api/orders", json=body, headers=sent)

    # -- reading what each service recorded ----------------------------------------------------

    def product(self, sku: str) -> Json:
        return self.get("inventory", f"/products/{sku}")

    def payments_for(self, order_id: int) -> list[Json]:
        items: list[Json] = self.get("payments", "/payments", order_id=order_id)["items"]
        return items

    def reservations_for(self, order_id: int) -> list[Json]:
        items: list[Json] = self.get("inventory", "/reservations", order_id=order_id)["items"]
        return items

    def order(self, order_id: int) -> Json:
        return self.get("orders", f"/orders/{order_id}")

    def totals(self) -> dict[str, int]:
        """How many orders, sagas, payments and reservations exist."""
        return {
            "orders": int(self.get("orders", "/orders", limit=1)["total"]),
            "sagas": int(self.get("orders", "/sagas", limit=1)["total"]),
            "payments": int(self.get("payments", "/payments", limit=1)["total"]),
            "reservations": int(self.get("inventory", "/reservations", limit=1)["total"]),
        }

    def sagas_in_flight(self) -> list[Json]:
        items: list[Json] = self.get("orders", "/sagas", state="in_flight")["items"]
        return items

    def wait_for_invariants(self, *, timeout: float = 30.0) -> InvariantReport:
        """Wait until every shop invariant holds (the outbox needs a moment to notify)."""
        reports: list[InvariantReport] = []

        def hold() -> bool:
            reports.append(check_shop_invariants(self.system, initial_stock=self.initial_stock))
            return reports[-1].ok

        try:
            wait_until(hold, timeout=timeout, interval=0.2, what="every shop invariant holds")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {reports[-1].summary()}") from None
        return reports[-1]

    def log_records(self, service: str) -> list[Json]:
        """The JSON lines of `service`'s log in the run directory (other lines skipped)."""
        path = self.system.services[service].log_path or Path(self.system.run_dir, service)
        records = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line still being written
        return records
