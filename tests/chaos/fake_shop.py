"""An in-process stand-in for the reference shop, served through httpx.MockTransport.

It reacts to the fake system's faults the way the real shop's contract says it should:
while a toxic sits on orders->payments the orders breaker reports open and orders fail
fast with 503; otherwise orders are confirmed. Enough to drive the chaos runner end to end
without processes.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import httpx
from chaos_fakes import FakeSystem
from chaos_paths import CHAOS_DIR

from harness.topology import Topology, parse_topology

SERVICES = ("gateway", "users", "orders", "payments", "inventory", "notifications")
EDGES = ("gateway->orders", "orders->payments", "orders->inventory")


class FakeShop:
    def __init__(self, system: FakeSystem, *, breaker_follows_faults: bool = True) -> None:
        self.system = system
        self.breaker_follows_faults = breaker_follows_faults
        self.orders: list[dict[str, Any]] = []
        self.transitions = {"closed->open": 0, "open->closed": 0}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._was_open = False
        self.transport = httpx.MockTransport(self.handle)
        self.metrics_broken: set[str] = set()  # services whose /metrics answers 500

    def _payments_faulty(self) -> bool:
        return bool(self.system.injector.toxics.get("orders->payments"))

    def _breaker_open(self) -> bool:
        open_now = self.breaker_follows_faults and self._payments_faulty()
        with self._lock:
            if open_now != self._was_open:
                self.transitions["closed->open" if open_now else "open->closed"] += 1
                self._was_open = open_now
        return open_now

    def handle(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.split(".")[0]
        path = request.url.path
        if path == "/health":
            return httpx.Response(200, json={"status": "ok", "service": service})
        if path == "/metrics":
            if service in self.metrics_broken:
                return httpx.Response(500, text="metrics registry locked")
            return httpx.Response(200, text=self._metrics(service))
        if (service, request.method, path) == ("gateway", "POST", "/api/users"):
            return httpx.Response(201, json={"id": 7, "name": "x", "email": "x@example.com"})
        if (service, request.method, path) == ("inventory", "POST", "/products"):
            return httpx.Response(201, json=json.loads(request.content))
        if (service, request.method, path) == ("gateway", "POST", "/api/orders"):
            return self._place_order()
        return httpx.Response(404, json={"error": "not_found"})

    def _place_order(self) -> httpx.Response:
        order_id = next(self._ids)
        if self._breaker_open():
            order = {"id": order_id, "status": "cancelled"}
            self.orders.append(order)
            return httpx.Response(503, json={"error": "dependency_unavailable", "order": order})
        order = {"id": order_id, "status": "confirmed"}
        self.orders.append(order)
        return httpx.Response(201, json=order)

    def _metrics(self, service: str) -> str:
        lines = [f'shop_up{{service="{service}"}} 1']
        if service == "orders":
            state = 1 if self._breaker_open() else 0
            lines.append(f'shop_breaker_state{{service="orders",dependency="payments"}} {state}')
            for key, count in self.transitions.items():
                from_state, to_state = key.split("->")
                lines.append(
                    "shop_breaker_transitions_total{"
                    f'service="orders",dependency="payments",from_state="{from_state}",'
                    f'to_state="{to_state}"}} {count}'
                )
            lines.append('shop_sagas_in_flight{service="orders"} 0')
        return "\n".join(lines) + "\n"


def fake_topology(**service_env: dict[str, object]) -> Topology:
    """The fake shop's topology: its services and edges, and its conventions declared the
    way the real shop's system.toml declares them (metrics, breaker gauge and counter)."""
    return parse_topology(
        {
            "conventions": {
                "metrics": "/metrics",
                "breaker": {
                    "metric": "shop_breaker_state",
                    "labels": {"dependency": "{target}"},
                    "transitions": "shop_breaker_transitions_total",
                },
            },
            "services": {
                name: {"app": "m:app", "env": service_env.get(name, {})} for name in SERVICES
            },
            "edges": [{"from": edge.split("->")[0], "to": edge.split("->")[1]} for edge in EDGES],
        }
    )


def fake_system(topology: Topology | None = None) -> FakeSystem:
    system = FakeSystem(SERVICES, edges=EDGES)
    system.topology = topology or fake_topology()  # type: ignore[attr-defined]
    return system


def slow_payments_method() -> dict[str, Any]:
    """An experiment's `method` the fake shop answers: 0.6 s of latency on orders->payments
    under the shop's order traffic (the fake opens its breaker while the toxic is on)."""
    return {
        "duration": 1.5,
        "faults": [
            {
                "label": "slow-payments",
                "edge": "orders->payments",
                "toxic": "latency",
                "attributes": {"latency": 2000},
                "start": 0.3,
                "duration": 0.6,
            }
        ],
        "traffic": {
            "class": str(CHAOS_DIR / "shop_traffic.py") + ":ShopTraffic",
            "rate": 20,
            "concurrency": 2,
            "options": {"products": 1, "mix": {"place_order": 1}},
        },
    }


def slow_payments_assertions() -> list[dict[str, Any]]:
    """What the fake shop shows under `slow_payments_method`: the breaker opens, closes after
    the heal, and orders fail while payments is slow."""
    return [
        {
            "name": "breaker opens within 5 s of the fault",
            "breaker": "orders->payments",
            "state": "open",
            "after": "slow-payments.start",
            "within": "5s",
        },
        {
            "name": "breaker closes after heal",
            "breaker": "orders->payments",
            "state": "closed",
            "after": "slow-payments.end",
            "within": "5s",
        },
        {
            "name": "orders fail while payments is slow",
            "traffic": "place_order",
            "status": 503,
            "at_least": 1,
            "after": "slow-payments.start",
            "until": "slow-payments.end",
        },
    ]
