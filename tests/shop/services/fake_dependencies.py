"""Small, well-formed stand-ins for the services behind orders and the gateway (MockTransport
handlers), for fuzzing a service's own API in-process without its siblings' databases.

Known: users 1..100, products SKU-1 and SKU-2 (100 cents, 50 in stock), any reservation or
payment id. `tok_declined` is declined.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import httpx

NOW = "2026-01-01T00:00:00+00:00"
KNOWN_SKUS = {"SKU-1", "SKU-2"}
_ids = itertools.count(1)

Handler = Callable[[httpx.Request], httpx.Response]


def _not_found() -> httpx.Response:
    return httpx.Response(404, json={"error": "not_found", "detail": "fake"})


def _user(user_id: int) -> dict[str, object]:
    return {"id": user_id, "name": "Ada", "email": f"u{user_id}@example.com", "created_at": NOW}


def users(request: httpx.Request) -> httpx.Response:
    if match := re.fullmatch(r"/users/(\d+)", request.url.path):
        user_id = int(match[1])
        return httpx.Response(200, json=_user(user_id)) if user_id <= 100 else _not_found()
    if request.method == "POST" and request.url.path == "/users":
        return httpx.Response(201, json=_user(next(_ids)))
    return _not_found()


def _product(sku: str) -> dict[str, object]:
    return {"sku": sku, "name": sku.lower(), "price_cents": 100, "stock": 50, "reserved": 0}


def _reservation(reservation_id: int, order_id: int, status: str) -> dict[str, object]:
    return {
        "id": reservation_id,
        "order_id": order_id,
        "status": status,
        "items": [],
        "created_at": NOW,
        "updated_at": NOW,
    }


def inventory(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if match := re.fullmatch(r"/products/(SKU-\d+)", path):
        return (
            httpx.Response(200, json=_product(match[1])) if match[1] in KNOWN_SKUS else _not_found()
        )
    if path == "/products":
        items = [_product(sku) for sku in sorted(KNOWN_SKUS)]
        return httpx.Response(200, json={"items": items, "total": len(items)})
    if request.method == "POST" and path == "/reservations":
        body = json.loads(request.content)
        if any(item["quantity"] > 50 for item in body["items"]):
            return httpx.Response(409, json={"error": "insufficient_stock", "detail": "fake"})
        return httpx.Response(201, json=_reservation(next(_ids), body["order_id"], "held"))
    if match := re.fullmatch(r"/reservations/(\d+)/(confirm|cancel)", path):
        status = "confirmed" if match[2] == "confirm" else "cancelled"
        return httpx.Response(200, json=_reservation(int(match[1]), 1, status))
    if path == "/reservations":
        return httpx.Response(200, json={"items": [], "total": 0})
    return _not_found()


def _payment(payment_id: int, status: str) -> dict[str, object]:
    return {
        "id": payment_id,
        "order_id": 1,
        "amount_cents": 100,
        "currency": "EUR",
        "status": status,
        "idempotency_key": "k",
        "created_at": NOW,
        "updated_at": NOW,
    }


def payments(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "POST" and path == "/payments":
        if json.loads(request.content)["card_token"] == "tok_declined":
            declined = _payment(next(_ids), "declined")
            return httpx.Response(402, json={"error": "card_declined", "payment": declined})
        return httpx.Response(201, json=_payment(next(_ids), "captured"))
    if match := re.fullmatch(r"/payments/(\d+)/refund", path):
        return httpx.Response(200, json=_payment(int(match[1]), "refunded"))
    if match := re.fullmatch(r"/payments/(\d+)", path):
        return httpx.Response(200, json=_payment(int(match[1]), "captured"))
    if path == "/payments":
        return httpx.Response(200, json={"items": [], "total": 0})
    return _not_found()


def _order(order_id: int, body: dict[str, object] | None = None) -> dict[str, object]:
    body = body or {"user_id": 1, "items": [{"sku": "SKU-1", "quantity": 1}]}
    return {
        "id": order_id,
        "user_id": body["user_id"],
        "items": body["items"],
        "total_cents": 100,
        "status": "confirmed",
        "reason": None,
        "payment_id": order_id,
        "reservation_id": order_id,
        "created_at": NOW,
        "updated_at": NOW,
    }


def orders(request: httpx.Request) -> httpx.Response:
    if match := re.fullmatch(r"/orders/(\d+)", request.url.path):
        order_id = int(match[1])
        return httpx.Response(200, json=_order(order_id)) if order_id <= 100 else _not_found()
    if request.method == "POST" and request.url.path == "/orders":
        return httpx.Response(201, json=_order(next(_ids), json.loads(request.content)))
    return _not_found()


def notifications(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path == "/events":
        return httpx.Response(202, json={"status": "accepted"})
    return _not_found()


def without_lifespan(app: Any) -> Any:
    """The app as if it had no lifespan: schemathesis starts and stops an app's lifespan for
    every test, and a stopped shop app has closed its clients for good. Tests create the
    tables themselves; no background task runs."""

    async def app_without_lifespan(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # Raised before asking for a message: the server's sign of "no lifespan support".
            raise RuntimeError("no lifespan under schemathesis")
        await app(scope, receive, send)

    return app_without_lifespan


def transports(
    *names: str, extra: dict[str, Handler] | None = None
) -> dict[str, httpx.MockTransport]:
    handlers: dict[str, Handler] = {
        "users": users,
        "inventory": inventory,
        "payments": payments,
        "notifications": notifications,
        "orders": orders,
        **(extra or {}),
    }
    return {name: httpx.MockTransport(handlers[name]) for name in names}
