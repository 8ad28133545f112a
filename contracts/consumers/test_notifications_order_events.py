"""Message pact: order events produced by orders (its outbox), consumed by notifications.

Each message is handed to the real notifications app in-process (`POST /events`, the way
the relay delivers it); the handler checks that it is recorded as one notification.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from consumer_support import sku
from pact import match
from shop.notifications.app import build_app
from shop.notifications.settings import NotificationsSettings

from harness.contracts.consumer import NewPact, timestamp


def order_event(event_type: str) -> dict[str, Any]:
    """What notifications needs of an event: the fields its `Event` model reads."""
    return {
        "event_id": match.uuid("5d0a4f5e-8c1b-4c7e-a3f1-2b9d6e0c7a11"),
        "type": match.regex(event_type, regex=f"^{re.escape(event_type)}$"),
        "order_id": match.int(42),
        "occurred_at": timestamp(),
        "payload": {
            "user_id": match.int(1),
            "total_cents": match.int(2500),
            "items": match.each_like({"sku": sku(), "quantity": match.int(2)}, min=1),
        },
    }


async def record(body: bytes) -> list[dict[str, Any]]:
    """Deliver `body` to a fresh notifications app; its notifications for the order."""
    app = build_app(NotificationsSettings(database_url="sqlite://"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as client,
    ):
        answer = await client.post(
            "/events", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 202, answer.text
        order_id = json.loads(body)["order_id"]
        listing = await client.get("/notifications", params={"order_id": order_id})
        items: list[dict[str, Any]] = listing.json()["items"]
        return items


def handle(body: str | bytes | None, _metadata: dict[str, object]) -> None:
    assert body is not None
    raw = body.encode() if isinstance(body, str) else body
    notifications = asyncio.run(record(raw))
    assert [n["type"] for n in notifications] == [json.loads(raw)["type"]]


@pytest.mark.parametrize(
    ("event_type", "state", "reason"),
    [
        ("order.confirmed", "an order was confirmed", None),
        ("order.cancelled", "an order was cancelled", "card_declined"),
    ],
)
def test_an_order_event_becomes_one_notification(
    new_pact: NewPact, event_type: str, state: str, reason: str | None
) -> None:
    pact = new_pact("notifications", "orders")
    params: dict[str, object] = {"order_id": 42, "user_id": 1, "total_cents": 2500}
    if reason is not None:
        params["reason"] = reason
    (
        pact.upon_receiving(f"an {event_type} event", "Async")
        .given(state, params)
        .with_body(order_event(event_type), "application/json")
    )
    pact.verify(handle, "Async")
