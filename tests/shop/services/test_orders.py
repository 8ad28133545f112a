"""The orders service in-process, wired to the real users, inventory and payments apps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from shop.common.metrics import sample_value
from shop_wiring import ORDER, Shop, running_shop

pytestmark = pytest.mark.anyio


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with running_shop(tmp_path) as shop:
        await shop.add_product("SKU-1", price_cents=250, stock=10)
        yield shop


async def wait_for_notifications(shop: Shop, order_id: int, count: int) -> list[str]:
    with anyio.fail_after(10):
        return await shop.wait_notified(order_id, count)


async def test_order_is_confirmed_with_stock_taken_one_charge_and_one_notification(
    shop: Shop,
) -> None:
    user_id = await shop.add_user()
    response = await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["total_cents"], order["reason"]) == ("confirmed", 500, None)
    assert (await shop.stock("SKU-1"))["stock"] == 8
    [payment] = await shop.payments_of(order["id"])
    assert (payment["status"], payment["amount_cents"], payment["id"]) == (
        "captured",
        500,
        order["payment_id"],
    )
    [reservation] = await shop.reservations_of(order["id"])
    assert (reservation["status"], reservation["id"]) == ("confirmed", order["reservation_id"])
    assert await wait_for_notifications(shop, order["id"], 1) == ["order.confirmed"]


async def test_replaying_the_key_returns_the_same_order_and_creates_nothing(shop: Shop) -> None:
    user_id = await shop.add_user()
    first = await shop.place("k-1", {**ORDER, "user_id": user_id})
    again = await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert (await shop.orders.get("/orders")).json()["total"] == 1
    assert len(await shop.payments_of(first.json()["id"])) == 1
    assert (await shop.stock("SKU-1"))["stock"] == 8


async def test_reusing_a_key_with_another_body_is_a_409(shop: Shop) -> None:
    user_id = await shop.add_user()
    await shop.place("k-1", {**ORDER, "user_id": user_id})
    response = await shop.place("k-1", {**ORDER, "user_id": user_id, "card_token": "tok_x"})
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_reused"


async def test_declined_card_cancels_the_order_and_releases_the_stock(shop: Shop) -> None:
    user_id = await shop.add_user()
    response = await shop.place("k-1", {**ORDER, "user_id": user_id, "card_token": "tok_declined"})
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "card_declined"
    order = body["order"]
    assert (order["status"], order["reason"]) == ("cancelled", "card_declined")
    assert (await shop.stock("SKU-1"))["stock"] == 10
    assert [p["status"] for p in await shop.payments_of(order["id"])] == ["declined"]
    assert [r["status"] for r in await shop.reservations_of(order["id"])] == ["cancelled"]
    assert await wait_for_notifications(shop, order["id"], 1) == ["order.cancelled"]


async def test_insufficient_stock_is_a_409_with_the_cancelled_order(shop: Shop) -> None:
    user_id = await shop.add_user()
    body = {**ORDER, "user_id": user_id, "items": [{"sku": "SKU-1", "quantity": 11}]}
    response = await shop.place("k-1", body)
    assert response.status_code == 409
    assert response.json()["error"] == "insufficient_stock"
    assert response.json()["order"]["status"] == "cancelled"
    assert await shop.payments_of(response.json()["order"]["id"]) == []


async def test_unknown_user_is_a_422_and_touches_nothing(shop: Shop) -> None:
    response = await shop.place("k-1", {**ORDER, "user_id": 999})
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_user"
    assert (await shop.orders.get("/orders")).json()["total"] == 0
    assert (await shop.inventory.get("/reservations")).json()["total"] == 0
    assert (await shop.payments.get("/payments")).json()["total"] == 0
    assert (await shop.stock("SKU-1"))["stock"] == 10


async def test_unknown_product_is_a_422_and_touches_nothing(shop: Shop) -> None:
    user_id = await shop.add_user()
    body = {**ORDER, "user_id": user_id, "items": [{"sku": "SKU-404", "quantity": 1}]}
    response = await shop.place("k-1", body)
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_product"
    assert (await shop.orders.get("/orders")).json()["total"] == 0


async def test_users_unavailable_is_a_503_and_creates_nothing(shop: Shop) -> None:
    user_id = await shop.add_user()
    shop.edges["users"].refuse("GET", r"/users/\d+")
    response = await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert response.status_code == 503
    assert response.json()["dependency"] == "users"
    assert (await shop.orders.get("/orders")).json()["total"] == 0


async def test_lost_charge_answers_are_resolved_by_key_and_the_order_charged_once(
    shop: Shop,
) -> None:
    user_id = await shop.add_user()
    shop.edges["payments"].lose_answer("POST", "/payments")
    response = await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert response.status_code == 201, response.text
    order = response.json()
    assert [p["status"] for p in await shop.payments_of(order["id"])] == ["captured"]
    requests = shop.edges["payments"].requests
    assert requests.count(("POST", "/payments")) == 3  # retried under one key
    assert ("POST", "/payment-voids") in requests  # settled by its key


async def test_payments_down_answers_503_then_recovery_cancels_the_order(shop: Shop) -> None:
    user_id = await shop.add_user()
    shop.edges["payments"].refuse("POST", "/payments")
    shop.edges["payments"].refuse("POST", "/payment-voids")
    response = await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert response.status_code == 503
    body = response.json()
    assert (body["error"], body["dependency"]) == ("dependency_unavailable", "payments")
    order_id = body["order"]["id"]
    # The charge could not be ruled out yet: the order waits, the stock is already back.
    assert body["order"]["status"] == "pending"
    assert (await shop.stock("SKU-1"))["stock"] == 10
    in_flight = (await shop.orders.get("/sagas", params={"state": "in_flight"})).json()
    assert in_flight["total"] == 1
    shop.edges["payments"].heal()
    cancelled = await shop.wait_for_order(order_id, "cancelled")
    assert cancelled["reason"] == "dependency_unavailable"
    assert (await shop.orders.get("/sagas", params={"state": "in_flight"})).json()["total"] == 0
    assert await shop.payments_of(order_id) == []


async def test_sagas_are_listed_by_state_with_their_step_log(shop: Shop) -> None:
    user_id = await shop.add_user()
    await shop.place("k-1", {**ORDER, "user_id": user_id})
    await shop.place("k-2", {**ORDER, "user_id": user_id, "card_token": "tok_declined"})
    completed = (await shop.orders.get("/sagas", params={"state": "completed"})).json()
    compensated = (await shop.orders.get("/sagas", params={"state": "compensated"})).json()
    assert (completed["total"], compensated["total"]) == (1, 1)
    saga_id = completed["items"][0]["id"]
    detail = (await shop.orders.get(f"/sagas/{saga_id}")).json()
    assert [s["step"] for s in detail["steps"] if s["outcome"] == "success"] == [
        "validate_user",
        "reserve_stock",
        "charge_payment",
        "confirm_reservation",
        "confirm_order",
    ]
    bad = await shop.orders.get("/sagas", params={"state": "lost"})
    assert bad.status_code == 422


async def test_orders_are_listed_and_fetched(shop: Shop) -> None:
    user_id = await shop.add_user()
    await shop.place("k-1", {**ORDER, "user_id": user_id})
    await shop.place("k-2", {**ORDER, "user_id": user_id, "card_token": "tok_declined"})
    cancelled = (await shop.orders.get("/orders", params={"status": "cancelled"})).json()
    assert [o["reason"] for o in cancelled["items"]] == ["card_declined"]
    order_id = cancelled["items"][0]["id"]
    assert (await shop.orders.get(f"/orders/{order_id}")).json()["status"] == "cancelled"
    missing = await shop.orders.get("/orders/9999")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {**ORDER, "user_id": 1}, 422),
        ({"Idempotency-Key": "a key"}, {**ORDER, "user_id": 1}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": "1"}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": True}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": 2**63}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": 1, "items": []}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": 1, "items": [{"sku": "x"}]}, 422),
        ({"Idempotency-Key": "k"}, {**ORDER, "user_id": 1, "extra": 1}, 422),
    ],
)
async def test_bad_order_requests_are_422_and_touch_nothing(
    shop: Shop, headers: dict[str, str], body: dict[str, Any], status: int
) -> None:
    response = await shop.orders.post("/orders", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == "validation_error"
    assert shop.edges["users"].requests == []


async def test_repeated_lines_of_a_sku_add_up(shop: Shop) -> None:
    user_id = await shop.add_user()
    lines = [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-1", "quantity": 2}]
    response = await shop.place("k-1", {**ORDER, "user_id": user_id, "items": lines})
    assert response.status_code == 201
    assert response.json()["items"] == [{"sku": "SKU-1", "quantity": 3}]
    assert (await shop.stock("SKU-1"))["stock"] == 7


async def test_malformed_json_is_a_400(shop: Shop) -> None:
    response = await shop.orders.post(
        "/orders",
        content=b"{nope",
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_ready_shows_each_dependency_breaker(shop: Shop) -> None:
    ready = (await shop.orders.get("/ready")).json()
    assert ready["status"] == "ready"
    assert set(ready["dependencies"]) == {"users", "inventory", "payments", "notifications"}
    assert {d["breaker"] for d in ready["dependencies"].values()} == {"closed"}


async def test_saga_and_outbox_metrics_are_exposed(shop: Shop) -> None:
    def completed() -> float:
        return sample_value("shop_saga_total", {"service": "orders", "outcome": "completed"})

    before = completed()
    user_id = await shop.add_user()
    await shop.place("k-1", {**ORDER, "user_id": user_id})
    assert completed() == before + 1
    text = (await shop.orders.get("/metrics")).text
    for name in ("shop_sagas_in_flight", "shop_outbox_backlog", "shop_saga_step_total"):
        assert name in text


async def test_test_reset_exists_only_in_test_mode(shop: Shop, tmp_path: Path) -> None:
    assert (await shop.orders.post("/_test/reset")).status_code == 404
    (tmp_path / "test-mode").mkdir()
    async with running_shop(tmp_path / "test-mode", shop_test_mode=True) as test_shop:
        assert (await test_shop.orders.post("/_test/reset")).status_code == 204


async def test_unsafe_switch_sends_a_fresh_key_per_charge_attempt(tmp_path: Path) -> None:
    async with running_shop(tmp_path, orders_send_idempotency_key=False) as shop:
        await shop.add_product("SKU-1", price_cents=250, stock=10)
        user_id = await shop.add_user()
        # Every attempt of the first charge call is served but its answer lost; the client
        # retries under one key, then the saga tries again under a new key.
        shop.edges["payments"].lose_answer("POST", "/payments", times=3)
        response = await shop.place("k-1", {**ORDER, "user_id": user_id})
        assert response.status_code == 201
        charged = await shop.payments_of(response.json()["id"])
        assert [p["status"] for p in charged] == ["captured", "captured"]  # charged twice


async def test_outbox_switch_off_sends_events_directly(tmp_path: Path) -> None:
    async with running_shop(tmp_path, outbox_enabled=False) as shop:
        await shop.add_product("SKU-1", price_cents=250, stock=10)
        user_id = await shop.add_user()
        response = await shop.place("k-1", {**ORDER, "user_id": user_id})
        order_id = response.json()["id"]
        # Sent before the answer, not by the relay.
        assert await shop.notified(order_id) == ["order.confirmed"]
