"""The services' provider-state and message routes: there in SHOP_TEST_MODE, absent (404)
in the default configuration, and strict about what they are sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.common.db import make_engine
from shop.common.provider_states import MESSAGES_PATH, PROVIDER_STATES_PATH
from shop.inventory.app import build_app as build_inventory
from shop.inventory.settings import InventorySettings
from shop.notifications.app import build_app as build_notifications
from shop.notifications.settings import NotificationsSettings
from shop.orders.factory import build_app as build_orders
from shop.orders.settings import OrdersSettings
from shop.payments.factory import create_app as build_payments
from shop.payments.settings import PaymentsSettings
from shop.users.app import build_app as build_users
from shop.users.settings import UsersSettings

pytestmark = pytest.mark.anyio

MEMORY = "sqlite://"


def _orders(test_mode: bool) -> FastAPI:
    settings = OrdersSettings(database_url=MEMORY, shop_test_mode=test_mode)
    return build_orders(settings=settings, engine=make_engine(MEMORY))


FASTAPI_SERVICES: dict[str, Callable[[bool], FastAPI]] = {
    "users": lambda on: build_users(UsersSettings(database_url=MEMORY, shop_test_mode=on)),
    "inventory": lambda on: build_inventory(
        InventorySettings(database_url=MEMORY, shop_test_mode=on)
    ),
    "notifications": lambda on: build_notifications(
        NotificationsSettings(database_url=MEMORY, shop_test_mode=on)
    ),
    "orders": _orders,
}


class WsgiClient:
    """The async calls these tests make, served by a WSGI app (httpx's WSGI transport is sync)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[httpx.AsyncClient | WsgiClient]:
    """An in-process client for a FastAPI app (lifespan run) or the Flask payments app."""
    if isinstance(app, FastAPI):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            yield c
        return
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        yield WsgiClient(client)


def payments(test_mode: bool) -> Any:
    return build_payments(settings=PaymentsSettings(database_url=MEMORY, shop_test_mode=test_mode))


def setup(state: str, **params: object) -> dict[str, object]:
    return {"state": state, "params": params, "action": "setup"}


@pytest.mark.parametrize("service", [*FASTAPI_SERVICES, "payments"])
async def test_the_provider_state_route_is_absent_by_default(service: str) -> None:
    app = payments(False) if service == "payments" else FASTAPI_SERVICES[service](False)
    async with serve(app) as client:
        answer = await client.post(PROVIDER_STATES_PATH, json=setup("", x=1))
        message = await client.post(MESSAGES_PATH, json={"description": "an event"})
    assert answer.status_code == 404
    assert message.status_code == 404


@pytest.mark.parametrize("service", [*FASTAPI_SERVICES, "payments"])
async def test_an_unknown_state_is_refused_with_the_known_ones(service: str) -> None:
    app = payments(True) if service == "payments" else FASTAPI_SERVICES[service](True)
    async with serve(app) as client:
        answer = await client.post(PROVIDER_STATES_PATH, json=setup("the moon is blue"))
        empty = await client.post(PROVIDER_STATES_PATH, json=setup(""))
    assert answer.status_code == 400
    assert answer.json()["error"] == "unknown_provider_state"
    assert "'the moon is blue'; known: " in answer.json()["detail"]
    assert (empty.status_code, empty.json()) == (200, {})  # an interaction without a state


async def test_a_state_sets_data_up_and_teardown_removes_it() -> None:
    async with serve(FASTAPI_SERVICES["users"](True)) as client:
        made = await client.post(PROVIDER_STATES_PATH, json=setup("a user exists", user_id=7))
        found = await client.get("/users/7")
        teardown = {**setup("a user exists", user_id=7), "action": "teardown"}
        await client.post(PROVIDER_STATES_PATH, json=teardown)
        gone = await client.get("/users/7")
    assert made.status_code == 200
    assert (found.status_code, found.json()["email"]) == (200, "ada@example.test")
    assert gone.status_code == 404


async def test_bad_state_parameters_are_refused_naming_the_parameter() -> None:
    async with serve(payments(True)) as client:
        answer = await client.post(
            PROVIDER_STATES_PATH, json=setup("a payment exists", payment_id="nine")
        )
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "bad_provider_state_params"
    assert "payment_id" in body["detail"]
    assert "order_id" in body["detail"]  # missing


async def test_a_held_reservation_state_keeps_stock_consistent() -> None:
    state = setup("a reservation exists", reservation_id=7, order_id=42, quantity=3, stock=10)
    async with serve(FASTAPI_SERVICES["inventory"](True)) as client:
        await client.post(PROVIDER_STATES_PATH, json=state)
        product = (await client.get("/products/SKU-1")).json()
        reservation = (await client.get("/reservations/7")).json()
    assert (product["stock"], product["reserved"]) == (7, 3)
    assert (reservation["order_id"], reservation["status"]) == (42, "held")


async def test_orders_produces_the_outbox_event_of_an_ended_order() -> None:
    async with serve(_orders(True)) as client:
        await client.post(
            PROVIDER_STATES_PATH,
            json=setup("an order was cancelled", order_id=44, reason="card_declined"),
        )
        answer = await client.post(
            MESSAGES_PATH,
            json={
                "description": "an order.cancelled event",
                "providerStates": [{"name": "an order was cancelled", "params": {"order_id": 44}}],
            },
        )
        missing = await client.post(
            MESSAGES_PATH,
            json={"description": "x", "providerStates": [{"name": "s", "params": {}}]},
        )
    assert answer.status_code == 200
    assert "Pact-Message-Metadata" in answer.headers
    event = answer.json()
    assert (event["type"], event["order_id"]) == ("order.cancelled", 44)
    assert event["payload"]["reason"] == "card_declined"
    assert missing.status_code == 400
    assert "order_id" in missing.json()["detail"]
