"""orders -> payments: the saga's charge, its refund, and the look-up by key that settles a
charge whose outcome was lost (`PaymentsClient`)."""

from __future__ import annotations

from typing import Any

import pytest
from consumer_support import PAYMENT_STATUS, error_body, idempotency_key, orders_client
from pact import match
from shop.orders.clients import PaymentsClient
from shop.orders.ports import PaymentRecord, Refused

from harness.contracts.consumer import NewPact, one_of

pytestmark = pytest.mark.anyio


def payment(status: str) -> dict[str, Any]:
    return {"id": match.int(9), "status": one_of(status, PAYMENT_STATUS)}


def charge_body(card_token: str) -> dict[str, Any]:
    return {
        "order_id": match.int(42),
        "amount_cents": match.int(2500),
        "currency": one_of("EUR", r"^(EUR|USD)$"),
        "card_token": match.str(card_token),
    }


def payments(url: str) -> PaymentsClient:
    return PaymentsClient(orders_client("payments", url))


async def test_an_order_is_charged(new_pact: NewPact) -> None:
    pact = new_pact("orders", "payments")
    (
        pact.upon_receiving("a request to charge an order")
        .given("no such payment", idempotency_key="order-42-charge")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", idempotency_key("order-42-charge"))
        .with_body(charge_body("tok_visa"), "application/json")
        .will_respond_with(201)
        .with_body(payment("captured"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        charged = await payments(str(server.url)).charge(
            order_id=42,
            amount_cents=2500,
            currency="EUR",
            card_token="tok_visa",
            idempotency_key="order-42-charge",
        )
    assert charged == PaymentRecord(id=9, status="captured")


async def test_a_declined_card_is_refused(new_pact: NewPact) -> None:
    pact = new_pact("orders", "payments")
    (
        pact.upon_receiving("a request to charge a card that is declined")
        .given("no such payment", idempotency_key="order-43-charge")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", idempotency_key("order-43-charge"))
        # The payments service declines this one token: its example value is the contract.
        .with_body(
            {**charge_body("tok_declined"), "card_token": "tok_declined"}, "application/json"
        )
        .will_respond_with(402)
        .with_body(error_body("card_declined"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server, pytest.raises(Refused) as refused:
        await payments(str(server.url)).charge(
            order_id=42,
            amount_cents=2500,
            currency="EUR",
            card_token="tok_declined",
            idempotency_key="order-43-charge",
        )
    assert (refused.value.status_code, refused.value.error) == (402, "card_declined")


async def test_a_captured_payment_is_refunded(new_pact: NewPact) -> None:
    pact = new_pact("orders", "payments")
    (
        pact.upon_receiving("a request to refund a captured payment")
        .given("a payment exists", payment_id=9, order_id=42, status="captured")
        .with_request("POST", "/payments/9/refund")
        .with_header("Idempotency-Key", idempotency_key("order-42-refund"))
        .will_respond_with(200)
        .with_body(payment("refunded"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        refunded = await payments(str(server.url)).refund(9, idempotency_key="order-42-refund")
    assert refunded == PaymentRecord(id=9, status="refunded")


async def test_a_charge_is_found_by_its_key(new_pact: NewPact) -> None:
    pact = new_pact("orders", "payments")
    (
        pact.upon_receiving("a request for the payment made with a key")
        .given(
            "a payment exists",
            payment_id=9,
            order_id=42,
            status="captured",
            idempotency_key="order-42-charge",
        )
        .with_request("GET", "/payments")
        .with_query_parameter("idempotency_key", idempotency_key("order-42-charge"))
        .will_respond_with(200)
        .with_body({"items": match.each_like(payment("captured"), min=1)}, "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        found = await payments(str(server.url)).find_by_key("order-42-charge")
    assert found == PaymentRecord(id=9, status="captured")


async def test_a_charge_that_never_arrived_is_not_found(new_pact: NewPact) -> None:
    pact = new_pact("orders", "payments")
    (
        pact.upon_receiving("a request for a payment under a key never used")
        .given("no such payment", idempotency_key="order-44-charge")
        .with_request("GET", "/payments")
        .with_query_parameter("idempotency_key", idempotency_key("order-44-charge"))
        .will_respond_with(200)
        .with_body({"items": []}, "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert await payments(str(server.url)).find_by_key("order-44-charge") is None
