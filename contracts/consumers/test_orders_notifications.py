"""orders (its outbox relay) -> notifications: an ended order's event is POSTed to
`/events`; both "accepted" and "duplicate" count as delivered.

The event is written by the orders store exactly as the saga writes it, and delivered by
the real `OutboxRelay` through `NotificationsClient`.
"""

from __future__ import annotations

from typing import Any

import pytest
from consumer_support import orders_client, sku
from pact import match
from shop.common.db import make_engine
from shop.orders.clients import NotificationsClient
from shop.orders.models import OrderStatus, OutboxStatus, SagaState
from shop.orders.outbox import OutboxRelay
from shop.orders.store import SagaStore

from harness.contracts.consumer import NewPact, timestamp

pytestmark = pytest.mark.anyio

EVENT_ID = "8b0f3c1e-3f7a-4d2b-9c55-1f2e3d4c5b6a"


def order_event(event_id: str = EVENT_ID) -> dict[str, Any]:
    return {
        "event_id": match.uuid(event_id),
        "type": match.regex("order.confirmed", regex=r"^order\.(confirmed|cancelled)$"),
        "order_id": match.int(42),
        "occurred_at": timestamp(),
        "payload": {
            "user_id": match.int(1),
            "total_cents": match.int(2500),
            "items": match.each_like({"sku": sku(), "quantity": match.int(2)}, min=1),
            "reason": None,  # a confirmed order has no reason
        },
    }


def store_with_confirmed_order() -> SagaStore:
    """An orders database holding one confirmed order and its pending event."""
    store = SagaStore(make_engine("sqlite://"))
    store.create_tables()
    _order, saga = store.create(
        idempotency_key="order-key-1",
        fingerprint="f" * 64,
        user_id=1,
        items=[{"sku": "SKU-1", "quantity": 2}],
        total_cents=2500,
        card_token="tok_visa",
    )
    store.finish(
        saga.id, state=SagaState.COMPLETED, order_status=OrderStatus.CONFIRMED, reason=None
    )
    return store


async def deliver(store: SagaStore, url: str) -> int:
    relay = OutboxRelay(
        store=store, events=NotificationsClient(orders_client("notifications", url))
    )
    return await relay.deliver_pending()


def sent(store: SagaStore) -> list[str]:
    return [row.status for row in store.events_for_order(1)]


@pytest.mark.parametrize(
    ("state", "status", "answer"),
    [
        (None, 202, "accepted"),
        ("an event was received", 200, "duplicate"),
    ],
)
async def test_the_relay_delivers_an_order_event(
    new_pact: NewPact, state: str | None, status: int, answer: str
) -> None:
    pact = new_pact("orders", "notifications")
    interaction = pact.upon_receiving(f"an order event the notifications service finds {answer}")
    if state is not None:
        interaction.given(state, event_id=EVENT_ID)
    (
        interaction.with_request("POST", "/events")
        .with_header("Idempotency-Key", match.uuid(EVENT_ID))
        .with_body(order_event(), "application/json")
        .will_respond_with(status)
    )
    store = store_with_confirmed_order()
    with pact.serve(addr="127.0.0.1") as server:
        assert await deliver(store, str(server.url)) == 1
    assert sent(store) == [OutboxStatus.SENT]
