"""gateway -> orders (and, for the order view, -> payments and -> users): placing an order,
and `GET /api/orders/{id}`, the order with its payment and its user."""

from __future__ import annotations

import pytest
from consumer_support import (
    PAYMENT_STATUS,
    error_body,
    gateway,
    idempotency_key,
    order_body,
    sku,
    user_body,
)
from pact import match

from harness.contracts.consumer import NewPact, one_of

pytestmark = pytest.mark.anyio


async def test_an_order_is_placed(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from the gateway to place an order")
        .given("an order can be placed", user_id=7, sku="SKU-1", price_cents=1250, stock=10)
        .with_request("POST", "/orders")
        .with_header("Idempotency-Key", idempotency_key("client-order-1"))
        .with_body(
            {
                "user_id": match.int(7),
                "items": match.each_like({"sku": sku(), "quantity": match.int(2)}, min=1),
                "card_token": match.str("tok_visa"),
            },
            "application/json",
        )
        .will_respond_with(201)
        .with_body(order_body(order_id=1), "application/json")
    )
    order = {"user_id": 7, "items": [{"sku": "SKU-1", "quantity": 2}], "card_token": "tok_visa"}
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"orders": str(server.url)}) as client:
            answer = await client.post(
                "/api/orders", json=order, headers={"Idempotency-Key": "client-order-1"}
            )
    assert (answer.status_code, answer.json()["status"]) == (201, "confirmed")


async def test_an_order_is_shown_with_its_payment_and_user(new_pact: NewPact) -> None:
    orders = new_pact("gateway", "orders")
    (
        orders.upon_receiving("a request from the gateway for an order")
        .given("an order exists", order_id=42, user_id=7, payment_id=9, reservation_id=7)
        .with_request("GET", "/orders/42")
        .will_respond_with(200)
        .with_body(order_body(order_id=42, user_id=7, payment_id=9), "application/json")
    )
    payments = new_pact("gateway", "payments")
    (
        payments.upon_receiving("a request from the gateway for an order's payment")
        .given("a payment exists", payment_id=9, order_id=42, status="captured")
        .with_request("GET", "/payments/9")
        .will_respond_with(200)
        .with_body(
            {
                "id": match.int(9),
                "amount_cents": match.int(2500),
                "currency": one_of("EUR", r"^(EUR|USD)$"),
                "status": one_of("captured", PAYMENT_STATUS),
            },
            "application/json",
        )
    )
    users = new_pact("gateway", "users")
    (
        users.upon_receiving("a request from the gateway for an order's user")
        .given("a user exists", user_id=7)
        .with_request("GET", "/users/7")
        .will_respond_with(200)
        .with_body(user_body(7), "application/json")
    )
    with (
        orders.serve(addr="127.0.0.1") as orders_server,
        payments.serve(addr="127.0.0.1") as payments_server,
        users.serve(addr="127.0.0.1") as users_server,
    ):
        urls = {
            "orders": str(orders_server.url),
            "payments": str(payments_server.url),
            "users": str(users_server.url),
        }
        async with gateway(urls) as client:
            answer = await client.get("/api/orders/42")
    assert answer.status_code == 200
    view = answer.json()
    assert (view["order"]["id"], view["payment"]["id"], view["user"]["id"]) == (42, 9, 7)
    assert view["degraded"] == []


async def test_an_unknown_order_is_a_404(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from the gateway for an unknown order")
        .given("no such order", order_id=404)
        .with_request("GET", "/orders/404")
        .will_respond_with(404)
        .with_body(error_body("not_found"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"orders": str(server.url)}) as client:
            answer = await client.get("/api/orders/404")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
