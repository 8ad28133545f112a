"""The shop in one process for service tests: real sibling apps behind httpx transports.

users, inventory and notifications are their FastAPI apps (ASGI transport, lifespan run),
payments is the Flask app (WSGI, read through a MockTransport). Every edge goes through a
`FaultyTransport`, the seam where tests break the network: fail a request before it leaves
(connection refused), after the dependency acted (the answer is lost to a read timeout), or
hold it back and deliver it later (a request stuck in a stalled server's queue).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
from fastapi import FastAPI
from flask import Flask
from shop.gateway.factory import build_app as build_gateway
from shop.gateway.settings import GatewaySettings
from shop.inventory.app import build_app as build_inventory
from shop.inventory.settings import InventorySettings
from shop.notifications.app import build_app as build_notifications
from shop.notifications.settings import NotificationsSettings
from shop.orders.factory import build_app as build_orders
from shop.orders.settings import OrdersSettings
from shop.payments.factory import ENGINE_EXTENSION
from shop.payments.factory import create_app as create_payments
from shop.payments.settings import PaymentsSettings
from shop.users.app import build_app as build_users
from shop.users.settings import UsersSettings

# Fast, deterministic resilience knobs for in-process tests.
FAST: dict[str, Any] = {
    "retry_backoff_base": 0.0,
    "retry_backoff_max": 0.0,
    "retry_budget_min_retries": 1000,
    "outbox_relay_interval": 0.02,
    "saga_recovery_interval": 0.05,
    "breaker_open_seconds": 0.1,
}


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    error: type[httpx.TransportError]
    after_forwarding: bool
    remaining: int | None
    held: bool = False


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to `inner` unless a rule says to break the request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.rules: list[_Rule] = []
        self.requests: list[tuple[str, str]] = []
        self.seen: list[httpx.Request] = []
        self.held: list[httpx.Request] = []

    def refuse(self, method: str, path: str, *, times: int | None = None) -> None:
        """The request never arrives (connection refused)."""
        self.rules.append(_Rule(method, re.compile(path), httpx.ConnectError, False, times))

    def lose_answer(self, method: str, path: str, *, times: int | None = None) -> None:
        """The request is served, then its answer is lost (read timeout)."""
        self.rules.append(_Rule(method, re.compile(path), httpx.ReadTimeout, True, times))

    def hold(self, method: str, path: str, *, times: int | None = None) -> None:
        """The caller times out (read timeout) while its request waits, unserved, until
        `deliver_held` hands it to the dependency: it arrives after the caller gave up."""
        self.rules.append(_Rule(method, re.compile(path), httpx.ReadTimeout, False, times, True))

    async def deliver_held(self) -> list[httpx.Response]:
        """Serve every held request now, oldest first; their answers go nowhere but here."""
        held, self.held = self.held, []
        answers = []
        for request in held:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            answers.append(response)
        return answers

    def heal(self) -> None:
        self.rules.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        self.seen.append(request)
        rule = self._match(request)
        if rule is not None and rule.held:
            self.held.append(request)
        if rule is not None and not rule.after_forwarding:
            raise rule.error("injected fault", request=request)
        response = await self.inner.handle_async_request(request)
        if rule is not None:
            await response.aread()
            raise rule.error("injected fault", request=request)
        return response

    def _match(self, request: httpx.Request) -> _Rule | None:
        for rule in self.rules:
            if rule.method == request.method and rule.path.fullmatch(request.url.path):
                if rule.remaining is not None:
                    if rule.remaining <= 0:
                        continue
                    rule.remaining -= 1
                return rule
        return None

    async def aclose(self) -> None:
        await self.inner.aclose()


def wsgi_transport(app: Flask) -> httpx.AsyncBaseTransport:
    """An async transport into a WSGI app (httpx's WSGITransport is sync-only)."""
    sync = httpx.WSGITransport(app=app)

    def handle(request: httpx.Request) -> httpx.Response:
        response = sync.handle_request(request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.read()
        )

    return httpx.MockTransport(handle)


# An order of two SKU-1 (the product the order tests add first), paid by a good card.
ORDER = {"items": [{"sku": "SKU-1", "quantity": 2}], "card_token": "tok_visa"}


@dataclass
class Shop:
    users: httpx.AsyncClient
    inventory: httpx.AsyncClient
    payments: httpx.AsyncClient
    orders: httpx.AsyncClient
    notifications: httpx.AsyncClient
    orders_app: FastAPI
    edges: dict[str, FaultyTransport]
    gateway: httpx.AsyncClient
    gateway_edges: dict[str, FaultyTransport]

    async def add_user(self, name: str = "Ada", email: str = "ada@example.com") -> int:
        response = await self.users.post("/users", json={"name": name, "email": email})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def add_product(self, sku: str, *, price_cents: int, stock: int) -> None:
        body = {"sku": sku, "name": sku.lower(), "price_cents": price_cents, "stock": stock}
        response = await self.inventory.post("/products", json=body)
        assert response.status_code == 201, response.text

    async def stock(self, sku: str) -> dict[str, Any]:
        product: dict[str, Any] = (await self.inventory.get(f"/products/{sku}")).json()
        return product

    async def payments_of(self, order_id: int) -> list[dict[str, Any]]:
        response = await self.payments.get("/payments", params={"order_id": order_id})
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notified(self, order_id: int) -> list[str]:
        """Types of the notifications recorded for the order."""
        response = await self.notifications.get("/notifications", params={"order_id": order_id})
        return [item["type"] for item in response.json()["items"]]

    async def wait_notified(self, order_id: int, count: int) -> list[str]:
        """The order's notification types once there are `count` (callers bound the wait)."""
        while True:
            types = await self.notified(order_id)
            if len(types) >= count:
                return types
            await asyncio.sleep(0.02)

    async def place(self, key: str, body: dict[str, Any]) -> httpx.Response:
        """POST /orders straight to orders, under the Idempotency-Key `key`."""
        return await self.orders.post("/orders", json=body, headers={"Idempotency-Key": key})

    async def wait_for_order(self, order_id: int, status: str) -> dict[str, Any]:
        """The order once it has `status` (fails after 10 s)."""
        with anyio.fail_after(10):
            while True:
                order: dict[str, Any] = (await self.orders.get(f"/orders/{order_id}")).json()
                if order["status"] == status:
                    return order
                await anyio.sleep(0.02)

    async def reservations_of(self, order_id: int) -> list[dict[str, Any]]:
        response = await self.inventory.get("/reservations", params={"order_id": order_id})
        items: list[dict[str, Any]] = response.json()["items"]
        return items


async def _asgi_service(stack: AsyncExitStack, app: FastAPI) -> httpx.AsyncBaseTransport:
    await stack.enter_async_context(app.router.lifespan_context(app))
    return httpx.ASGITransport(app=app)


@asynccontextmanager
async def running_shop(
    tmp_path: Path,
    *,
    gateway_settings: dict[str, Any] | None = None,
    gateway_clock: Callable[[], float] | None = None,
    **orders_overrides: Any,
) -> AsyncIterator[Shop]:
    """users, inventory, payments, orders and the gateway wired together; all closed on exit.

    `orders_overrides` and `gateway_settings` change those services' settings.
    """
    async with AsyncExitStack() as stack:
        users = await _asgi_service(
            stack, build_users(UsersSettings(database_url=f"sqlite:///{tmp_path}/users.db"))
        )
        inventory = await _asgi_service(
            stack,
            build_inventory(InventorySettings(database_url=f"sqlite:///{tmp_path}/inventory.db")),
        )
        payments_app = create_payments(
            settings=PaymentsSettings(database_url=f"sqlite:///{tmp_path}/payments.db")
        )
        stack.callback(payments_app.extensions[ENGINE_EXTENSION].dispose)
        notifications = await _asgi_service(
            stack,
            build_notifications(
                NotificationsSettings(database_url=f"sqlite:///{tmp_path}/notifications.db")
            ),
        )
        edges = {
            "users": FaultyTransport(users),
            "inventory": FaultyTransport(inventory),
            "payments": FaultyTransport(wsgi_transport(payments_app)),
            "notifications": FaultyTransport(notifications),
        }
        settings = OrdersSettings(
            database_url=f"sqlite:///{tmp_path}/orders.db", **{**FAST, **orders_overrides}
        )
        orders_app = build_orders(settings=settings, transports=edges)
        orders = await _asgi_service(stack, orders_app)
        gateway_edges = {
            "users": FaultyTransport(users),
            "inventory": FaultyTransport(inventory),
            "payments": FaultyTransport(wsgi_transport(payments_app)),
            "orders": FaultyTransport(orders),
        }
        gateway_app = build_gateway(
            settings=GatewaySettings(
                database_url=f"sqlite:///{tmp_path}/gateway.db",
                **{**FAST, **(gateway_settings or {})},
            ),
            transports=gateway_edges,
            clock=gateway_clock,
        )
        gateway = await _asgi_service(stack, gateway_app)

        def client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=transport, base_url="http://testserver")

        shop = Shop(
            users=await stack.enter_async_context(client(users)),
            inventory=await stack.enter_async_context(client(inventory)),
            payments=await stack.enter_async_context(client(wsgi_transport(payments_app))),
            orders=await stack.enter_async_context(client(orders)),
            notifications=await stack.enter_async_context(client(notifications)),
            orders_app=orders_app,
            edges=edges,
            gateway=await stack.enter_async_context(client(gateway)),
            gateway_edges=gateway_edges,
        )
        yield shop
