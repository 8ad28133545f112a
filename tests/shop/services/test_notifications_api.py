"""notifications in-process (ASGI) on a temp SQLite DB: events deduped by id, listings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.common.metrics import sample_value
from shop.notifications.app import build_app
from shop.notifications.settings import NotificationsSettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


def notifications_app(tmp_path: Path, *, test_mode: bool = False) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'notifications.db'}"
    return build_app(NotificationsSettings(database_url=url, shop_test_mode=test_mode))


@pytest.fixture
async def client(tmp_path: Path, app_client: AppClient) -> httpx.AsyncClient:
    return await app_client(notifications_app(tmp_path))


def event(order_id: int = 1, kind: str = "order.confirmed", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "order_id": order_id,
        "occurred_at": "2024-05-01T10:00:00+00:00",
        "payload": {
            "user_id": 3,
            "total_cents": 2500,
            "items": [{"sku": "SKU-1", "quantity": 2}],
            "reason": None,
        },
    }
    body.update(changes)
    return body


def accepted_total() -> float:
    return sample_value(
        "shop_notifications_total", {"service": "notifications", "outcome": "accepted"}
    )


@pytest.mark.anyio
async def test_new_event_is_accepted_and_listed_for_its_order(client: httpx.AsyncClient) -> None:
    before = accepted_total()
    sent = event(order_id=7)
    response = await client.post("/events", json=sent)
    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    listing = (await client.get("/notifications", params={"order_id": 7})).json()
    assert listing["total"] == 1
    notification = listing["items"][0]
    assert notification["event_id"] == sent["event_id"]
    assert (notification["order_id"], notification["type"]) == (7, "order.confirmed")
    assert set(notification) == {"id", "event_id", "order_id", "type", "created_at"}
    assert accepted_total() == before + 1


@pytest.mark.anyio
async def test_repeated_event_id_is_a_duplicate_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    sent = event()
    await client.post("/events", json=sent)
    again = await client.post("/events", json=sent, headers={"Idempotency-Key": sent["event_id"]})
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert (await client.get("/notifications")).json()["total"] == 1


@pytest.mark.anyio
async def test_concurrent_deliveries_of_one_event_record_it_once(
    client: httpx.AsyncClient,
) -> None:
    sent = event()
    responses = await asyncio.gather(*(client.post("/events", json=sent) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [202]
    assert (await client.get("/notifications")).json()["total"] == 1


@pytest.mark.anyio
async def test_notifications_filter_by_order_and_type(client: httpx.AsyncClient) -> None:
    await client.post("/events", json=event(order_id=1))
    await client.post("/events", json=event(order_id=2, kind="order.cancelled"))
    await client.post("/events", json=event(order_id=2))
    by_order = (await client.get("/notifications", params={"order_id": 2})).json()
    assert by_order["total"] == 2
    confirmed = (
        await client.get("/notifications", params={"order_id": 2, "type": "order.confirmed"})
    ).json()
    assert confirmed["total"] == 1
    assert (await client.get("/notifications")).json()["total"] == 3


@pytest.mark.anyio
async def test_producer_may_add_fields_to_the_payload(client: httpx.AsyncClient) -> None:
    sent = event()
    sent["payload"]["items"][0]["price_cents"] = 1250
    sent["payload"]["currency"] = "EUR"
    assert (await client.post("/events", json=sent)).status_code == 202


@pytest.mark.anyio
@pytest.mark.parametrize(
    "changes",
    [
        {"event_id": "not-a-uuid"},
        {"event_id": 12},
        {"type": "order.shipped"},
        {"order_id": 0},
        {"order_id": "1"},
        {"order_id": 2**53},
        {"occurred_at": "yesterday"},
        {"occurred_at": "2024-05-01T10:00:00"},  # no zone: ambiguous
        {"occurred_at": 1714557600},  # a Unix time is not the documented string
        {"payload": None},
        {"payload": {"user_id": 1, "total_cents": -1, "items": []}},
        {"payload": {"user_id": 1, "total_cents": 1, "items": [{"sku": "SKU-1"}]}},
        {"payload": {"total_cents": 1, "items": []}},
    ],
)
async def test_invalid_event_is_a_422_and_records_nothing(
    client: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    response = await client.post("/events", json=event(**changes))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert (await client.get("/notifications")).json()["total"] == 0


@pytest.mark.anyio
async def test_malformed_event_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "params",
    [{"order_id": 0}, {"order_id": "x"}, {"order_id": 2**64}, {"type": "nope"}, {"limit": 0}],
)
async def test_invalid_listing_query_is_a_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert (await client.get("/notifications", params=params)).status_code == 422


@pytest.mark.anyio
async def test_test_reset_deletes_every_notification_in_test_mode(
    tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(notifications_app(tmp_path, test_mode=True))
    await client.post("/events", json=event())
    assert (await client.post("/_test/reset")).status_code == 204
    assert (await client.get("/notifications")).json()["total"] == 0


@pytest.mark.anyio
async def test_test_reset_is_absent_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_test/reset")).status_code == 404


@pytest.mark.anyio
async def test_openapi_documents_accepted_and_duplicate_answers(
    client: httpx.AsyncClient,
) -> None:
    responses = (await client.get("/openapi.json")).json()["paths"]["/events"]["post"]["responses"]
    assert {"200", "202", "400", "422"} <= set(responses)
