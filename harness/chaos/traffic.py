"""Background traffic for the reference shop: orders placed (and read) through the gateway.

Small on purpose: a few threads sharing one httpx client and one pacer, so the total rate
is bounded whatever the concurrency, and one `random.Random(seed)` that draws the sequence
of operations, so a seed replays the same requests in the same order (their timing is up
to the system). Every request becomes a `TrafficRecord` the assertions read.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.chaos.model import ShopTraffic
from harness.traffic import TrafficRecord

__all__ = ["SetupError", "ShopTrafficGenerator", "TrafficRecord", "TrafficSetup"]

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """The traffic's user or products could not be created."""


@dataclass(frozen=True, slots=True)
class TrafficSetup:
    """What setup created: the user orders are placed for and each product's stock."""

    user_id: int
    initial_stock: Mapping[str, int]
    run_id: str


@dataclass(slots=True)
class _Pacer:
    """Hands out start times `1/rate` apart to any number of threads."""

    rate: float
    next_at: float = 0.0
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, now: float) -> tuple[int, float]:
        with self.lock:
            at = max(self.next_at, now)
            self.next_at = at + 1.0 / self.rate
            index = self.issued
            self.issued += 1
            return index, at


class ShopTrafficGenerator:
    """Runs `config` against a gateway for `duration` seconds.

    Args:
        config: the experiment's `method.traffic`.
        gateway_url / inventory_url: base URLs (setup creates products in inventory).
        seed: draws operations, products and quantities.
        duration: seconds of traffic after `start()`; None: until `stop()`.
        transport: an httpx transport (tests pass `httpx.MockTransport`).
    """

    def __init__(
        self,
        config: ShopTraffic,
        *,
        gateway_url: str,
        inventory_url: str,
        seed: int,
        duration: float | None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.duration = duration
        self._gateway = gateway_url.rstrip("/")
        self._inventory = inventory_url.rstrip("/")
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._client = httpx.Client(
            transport=transport,
            timeout=config.timeout,
            limits=httpx.Limits(max_connections=config.concurrency + 2),
            headers={"Authorization": f"Bearer {config.token}"},
        )
        self._records: list[TrafficRecord] = []
        self._in_flight: dict[int, float] = {}
        self._orders: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.setup_result: TrafficSetup | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._operations = [op for op, weight in config.mix.items() if weight > 0]
        self._weights = [config.mix[op] for op in self._operations]

    # -- setup --------------------------------------------------------------------------

    def setup(self) -> TrafficSetup:
        """Create the user (through the gateway) and fresh products (in inventory)."""
        run_id = f"{random.SystemRandom().randrange(10**8):08d}"
        user = self._create(
            f"{self._gateway}/api/users",
            {"name": f"chaos {run_id}", "email": f"chaos-{run_id}@example.com"},
        )
        stock: dict[str, int] = {}
        products = self.config.products
        for index in range(products.count):
            sku = f"SKU-{run_id}{index:02d}"
            self._create(
                f"{self._inventory}/products",
                {
                    "sku": sku,
                    "name": f"chaos product {index}",
                    "price_cents": products.price_cents,
                    "stock": products.stock,
                },
            )
            stock[sku] = products.stock
        self.setup_result = TrafficSetup(
            user_id=int(user["id"]), initial_stock=stock, run_id=run_id
        )
        return self.setup_result

    def _create(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        last = ""
        for attempt in range(3):
            try:
                response = self._client.post(url, json=dict(body))
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in (200, 201):
                    data: dict[str, Any] = response.json()
                    return data
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            self._stop.wait(0.3 * (attempt + 1))
        raise SetupError(f"traffic setup: POST {url} failed: {last}")

    # -- running ------------------------------------------------------------------------

    def start(self, *, delay: float = 0.0) -> None:
        """Start the workers; the first request goes out after `delay` seconds."""
        if self.setup_result is None:
            self.setup()
        self.started_at = time.time() + delay
        begin = time.monotonic() + delay
        pacer = _Pacer(rate=self.config.rate, next_at=begin)
        deadline = float("inf") if self.duration is None else begin + self.duration
        for index in range(self.config.concurrency):
            thread = threading.Thread(
                target=self._worker, args=(pacer, deadline), name=f"traffic-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every worker finished (True) or `timeout` passed (False)."""
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if end is None else max(0.0, end - time.monotonic()))
            if thread.is_alive():
                return False
        self._mark_ended()
        return True

    def request_stop(self) -> None:
        """Issue no new request (returns at once; `done` turns true when workers exit)."""
        self._stop.set()

    def stop(self) -> None:
        """Stop issuing requests; requests in flight finish (bounded by the timeout)."""
        self._stop.set()
        self.wait(self.config.timeout + 1.0)
        self._mark_ended()
        self._client.close()

    @property
    def done(self) -> bool:
        return bool(self._threads) and not any(t.is_alive() for t in self._threads)

    def _mark_ended(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()

    def _worker(self, pacer: _Pacer, deadline: float) -> None:
        while not self._stop.is_set():
            index, at = pacer.claim(time.monotonic())
            if at >= deadline:
                return
            if self._stop.wait(max(0.0, at - time.monotonic())):
                return
            operation, draw = self._draw()
            self._perform(index, operation, draw)

    def _draw(self) -> tuple[str, tuple[int, int, float]]:
        with self._rng_lock:
            operation = self._rng.choices(self._operations, self._weights)[0]
            low, high = self.config.quantity
            return operation, (
                self._rng.randrange(self.config.products.count),
                self._rng.randint(low, high),
                self._rng.random(),
            )

    def _perform(self, index: int, operation: str, draw: tuple[int, int, float]) -> None:
        assert self.setup_result is not None
        product, quantity, pick = draw
        setup = self.setup_result
        if operation == "get_order":
            with self._lock:
                known = list(self._orders)
            if not known:
                operation = "list_products"
            else:
                url = f"{self._gateway}/api/orders/{known[int(pick * len(known))]}"
                self._send(operation, "GET", url)
                return
        if operation == "place_order":
            sku = sorted(setup.initial_stock)[product]
            self._send(
                operation,
                "POST",
                f"{self._gateway}/api/orders",
                json={
                    "user_id": setup.user_id,
                    "items": [{"sku": sku, "quantity": quantity}],
                    "card_token": self.config.card_token,
                },
                headers={"Idempotency-Key": f"chaos-{setup.run_id}-{index}"},
            )
        elif operation == "get_user":
            self._send(operation, "GET", f"{self._gateway}/api/users/{setup.user_id}")
        else:
            self._send(operation, "GET", f"{self._gateway}/api/products")

    def _send(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        started = time.time()
        began = time.perf_counter()
        token = threading.get_ident()
        with self._lock:
            self._in_flight[token] = started
        status: int | None = None
        error: str | None = None
        order_id: int | None = None
        try:
            response = self._client.request(method, url, json=json, headers=headers)
            status = response.status_code
            if operation == "place_order":
                order_id = _order_id(response)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        record = TrafficRecord(
            name=operation,
            started_at=started,
            latency=time.perf_counter() - began,
            status=status,
            error=error,
            data={} if order_id is None else {"order_id": order_id},
        )
        with self._lock:
            self._in_flight.pop(token, None)
            self._records.append(record)
            if order_id is not None and record.ok:
                self._orders.append(order_id)

    # -- reading ------------------------------------------------------------------------

    @property
    def records(self) -> list[TrafficRecord]:
        with self._lock:
            return list(self._records)

    @property
    def in_flight(self) -> list[float]:
        """Start times of the requests still waiting for an answer."""
        with self._lock:
            return list(self._in_flight.values())

    def stats(self) -> dict[str, dict[str, int]]:
        """`{operation: {"ok": n, "error": n}}` so far (the live view shows it)."""
        counts: dict[str, dict[str, int]] = {}
        for record in self.records:
            bucket = counts.setdefault(record.name, {"ok": 0, "error": 0})
            bucket["ok" if record.ok else "error"] += 1
        return counts


def _order_id(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    order = body.get("order", body)
    value = order.get("id") if isinstance(order, dict) else None
    return value if isinstance(value, int) else None
