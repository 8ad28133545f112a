"""What the shop's consumer tests share: matchers for the shop's field formats, and the
consumers' real clients pointed at a Pact mock server. The generic parts (`new_pact`,
`NewPact`, `timestamp`, `one_of`) come from `harness.contracts.consumer`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pact import match
from pact.match.matcher import AbstractMatcher
from shop.common.client import ResilientClient
from shop.common.db import make_engine
from shop.gateway.factory import build_app as build_gateway
from shop.gateway.settings import GatewaySettings
from shop.orders.settings import OrdersSettings

from harness.contracts.consumer import one_of, timestamp

SKU = r"^SKU-\d+$"
# Any key a client may send: printable ASCII without spaces (the services' own pattern).
IDEMPOTENCY_KEY = r"^[!-~]{1,200}$"
RESERVATION_STATUS = r"^(held|confirmed|cancelled)$"
PAYMENT_STATUS = r"^(captured|declined|refunded)$"
ORDER_STATUS = r"^(pending|confirmed|cancelled)$"
# Nothing listens here: a dependency a test does not use must never be called.
UNUSED_URL = "http://127.0.0.1:9"
BEARER = {"Authorization": "Bearer demo-token"}


def sku(example: str = "SKU-1") -> AbstractMatcher[Any]:
    return match.regex(example, regex=SKU)


def idempotency_key(example: str = "order-42-reserve") -> AbstractMatcher[Any]:
    return match.regex(example, regex=IDEMPOTENCY_KEY)


def error_body(code: str) -> dict[str, Any]:
    """The shop's error shape, as far as a consumer reads it: a code and a detail."""
    return {"error": match.regex(code, regex=f"^{code}$"), "detail": match.str("why")}


def orders_client(dependency: str, base_url: str) -> ResilientClient:
    """The orders service's client for `dependency`, as its factory builds it."""
    return ResilientClient(
        service="orders",
        dependency=dependency,
        base_url=base_url,
        settings=OrdersSettings(database_url="sqlite://"),
    )


@asynccontextmanager
async def gateway(urls: Mapping[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway app in-process, its services at `urls` (the others unreachable)."""
    settings = GatewaySettings(
        database_url="sqlite://",
        users_url=urls.get("users", UNUSED_URL),
        orders_url=urls.get("orders", UNUSED_URL),
        inventory_url=urls.get("inventory", UNUSED_URL),
        payments_url=urls.get("payments", UNUSED_URL),
    )
    app = build_gateway(settings=settings, engine=make_engine("sqlite://"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=BEARER
        ) as client,
    ):
        yield client


# -- what the gateway promises its own callers (its OpenAPI models), so what it needs ---------


def user_body(user_id: int = 7) -> dict[str, Any]:
    """`User`: the gateway answers it as is on /api/users and in the order view."""
    return {
        "id": match.int(user_id),
        "name": match.str("Ada Lovelace"),
        "email": match.regex("ada@example.test", regex=r"^[^@\s]+@[^@\s]+$"),
        "created_at": timestamp(),
    }


def product_body() -> dict[str, Any]:
    """`Product`, as /api/products and /api/products/{sku} answer it."""
    return {
        "sku": sku(),
        "name": match.str("Widget"),
        "price_cents": match.int(1250),
        "stock": match.int(10),
        "reserved": match.int(0),
    }


def order_body(*, order_id: int = 42, user_id: int = 7, payment_id: int = 9) -> dict[str, Any]:
    """`OrderOut` of a confirmed order; the view also reads `user_id` and `payment_id`."""
    return {
        "id": match.int(order_id),
        "user_id": match.int(user_id),
        "items": match.each_like({"sku": sku(), "quantity": match.int(2)}, min=1),
        "total_cents": match.int(2500),
        "status": one_of("confirmed", ORDER_STATUS),
        "reason": None,  # a confirmed order has none
        "payment_id": match.int(payment_id),
        "reservation_id": match.int(7),
        "created_at": timestamp(),
        "updated_at": timestamp(),
    }
