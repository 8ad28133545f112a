"""The reference shop in one process, for fuzzing each service's document in-process.

users, inventory and notifications are their FastAPI apps, payments the Flask app; orders
and the gateway are their FastAPI apps wired to those apps through httpx transports (ASGI,
and WSGI for payments), so their requests reach real services. Every app has its own
in-memory SQLite database; tables are created here and no lifespan runs (schemathesis would
start and stop an app's lifespan around every test, and a stopped shop app has closed its
clients): no background task, so orders' outbox events stay undelivered.

The shop is built once per test process, with shop.fuzz_data's users and products, the data
that generated orders are steered to (target-system/schemathesis.toml).
`SHOP.reset()` empties every database and puts that data back, so each example of a
stateful test starts from the same state (hypothesis needs that to replay an example).
target-system/schemathesis.toml steers generated orders towards that data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from flask import Flask
from shop.common.db import delete_all_rows, make_engine, session_scope
from shop.fuzz_data import products, shoppers
from shop.gateway.factory import build_app as build_gateway
from shop.gateway.settings import GatewaySettings
from shop.inventory.app import build_app as build_inventory
from shop.inventory.models import Base as InventoryBase
from shop.inventory.models import ProductRow
from shop.inventory.settings import InventorySettings
from shop.notifications.app import build_app as build_notifications
from shop.notifications.models import Base as NotificationsBase
from shop.notifications.settings import NotificationsSettings
from shop.orders.factory import build_app as build_orders
from shop.orders.models import Base as OrdersBase
from shop.orders.settings import OrdersSettings
from shop.payments.factory import ENGINE_EXTENSION
from shop.payments.factory import create_app as create_payments
from shop.payments.models import Base as PaymentsBase
from shop.payments.settings import PaymentsSettings
from shop.users.app import build_app as build_users
from shop.users.models import Base as UsersBase
from shop.users.models import UserRow
from shop.users.settings import UsersSettings
from sqlalchemy import Engine, MetaData

IN_MEMORY = "sqlite://"
# Resilience knobs that keep in-process calls fast; the gateway's rate limit is off.
FAST: dict[str, Any] = {
    "database_url": IN_MEMORY,
    "retry_backoff_base": 0.0,
    "retry_backoff_max": 0.0,
    "retry_budget_min_retries": 1000,
    "breaker_open_seconds": 0.1,
}


def without_lifespan(app: Any) -> Any:
    """The app as if it had no lifespan (see the module doc)."""

    async def app_without_lifespan(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # Raised before asking for a message: the server's sign of "no lifespan support".
            raise RuntimeError("no lifespan in the in-process shop")
        await app(scope, receive, send)

    return app_without_lifespan


def wsgi_transport(app: Flask) -> httpx.AsyncBaseTransport:
    """An async transport into a WSGI app (httpx's WSGITransport is sync only)."""
    sync = httpx.WSGITransport(app=app)

    def handle(request: httpx.Request) -> httpx.Response:
        response = sync.handle_request(request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.read()
        )

    return httpx.MockTransport(handle)


@dataclass
class InProcessShop:
    """The apps; `asgi(name)` is a FastAPI app wrapped for schemathesis' `from_asgi`."""

    apps: dict[str, Any]
    databases: list[tuple[Engine, MetaData]] = field(default_factory=list)

    def asgi(self, name: str) -> Any:
        return without_lifespan(self.apps[name])

    @property
    def payments(self) -> Flask:
        app: Flask = self.apps["payments"]
        return app

    def reset(self) -> None:
        """Every database emptied, then the users and the catalog put back."""
        for engine, metadata in self.databases:
            delete_all_rows(engine, metadata)
        self.seed()

    def seed(self) -> None:
        """shop.fuzz_data's users (ids 1..10) and products, straight into the tables: a reset
        runs before every stateful example."""
        with session_scope(self.apps["users"].state.engine, write=True) as session:
            for n, user in enumerate(shoppers(), start=1):
                session.add(UserRow(id=n, **user, email_key=user["email"]))
        with session_scope(self.apps["inventory"].state.engine, write=True) as session:
            for product in products():
                session.add(ProductRow(**product, reserved=0))


def _with_tables(app: FastAPI, metadata: MetaData, shop: InProcessShop) -> FastAPI:
    metadata.create_all(app.state.engine)
    shop.databases.append((app.state.engine, metadata))
    return app


def build_shop() -> InProcessShop:
    shop = InProcessShop(apps={})
    users = _with_tables(build_users(UsersSettings(**FAST)), UsersBase.metadata, shop)
    inventory = _with_tables(
        build_inventory(InventorySettings(**FAST)), InventoryBase.metadata, shop
    )
    notifications = _with_tables(
        build_notifications(NotificationsSettings(**FAST)), NotificationsBase.metadata, shop
    )
    payments = create_payments(settings=PaymentsSettings(**FAST))
    shop.databases.append((payments.extensions[ENGINE_EXTENSION], PaymentsBase.metadata))

    orders_engine = make_engine(IN_MEMORY)
    OrdersBase.metadata.create_all(orders_engine)
    shop.databases.append((orders_engine, OrdersBase.metadata))
    orders = build_orders(
        settings=OrdersSettings(**FAST),
        engine=orders_engine,
        transports={
            "users": httpx.ASGITransport(app=users),
            "inventory": httpx.ASGITransport(app=inventory),
            "payments": wsgi_transport(payments),
            "notifications": httpx.ASGITransport(app=notifications),
        },
    )
    gateway = build_gateway(
        settings=GatewaySettings(**FAST, gateway_rate_limit_rps=0),
        engine=make_engine(IN_MEMORY),
        transports={
            "users": httpx.ASGITransport(app=users),
            "orders": httpx.ASGITransport(app=orders),
            "inventory": httpx.ASGITransport(app=inventory),
            "payments": wsgi_transport(payments),
        },
    )
    shop.apps.update(
        users=users,
        inventory=inventory,
        notifications=notifications,
        payments=payments,
        orders=orders,
        gateway=gateway,
    )
    shop.seed()
    return shop


SHOP = build_shop()
