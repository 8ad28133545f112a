"""orders -> inventory: prices, and the reservation the saga holds, confirms or cancels
(`InventoryClient`). Only the fields the client parses are required of a response."""

from __future__ import annotations

from typing import Any

import pytest
from consumer_support import RESERVATION_STATUS, error_body, idempotency_key, orders_client, sku
from pact import match
from shop.orders.clients import InventoryClient
from shop.orders.ports import LineItem, Refused, Reservation

from harness.contracts.consumer import NewPact, one_of

pytestmark = pytest.mark.anyio


def reservation(status: str = "held") -> dict[str, Any]:
    return {
        "id": match.int(7),
        "order_id": match.int(42),
        "status": one_of(status, RESERVATION_STATUS),
    }


def inventory(url: str) -> InventoryClient:
    return InventoryClient(orders_client("inventory", url))


async def test_a_product_price_is_read(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request from orders for a product's price")
        .given("a product exists", sku="SKU-1", price_cents=1250, stock=10)
        .with_request("GET", "/products/SKU-1")
        .will_respond_with(200)
        .with_body({"sku": sku(), "price_cents": match.int(1250)}, "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert await inventory(str(server.url)).product_price("SKU-1") == 1250


async def test_an_unknown_product_has_no_price(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request from orders for an unknown product")
        .given("no such product", sku="SKU-404")
        .with_request("GET", "/products/SKU-404")
        .will_respond_with(404)
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert await inventory(str(server.url)).product_price("SKU-404") is None


async def test_stock_is_reserved_for_an_order(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request to reserve stock for an order")
        .given("a product exists", sku="SKU-1", price_cents=1250, stock=10)
        .with_request("POST", "/reservations")
        .with_header("Idempotency-Key", idempotency_key("order-42-reserve"))
        .with_body(
            {
                "order_id": match.int(42),
                "items": match.each_like({"sku": sku(), "quantity": match.int(2)}, min=1),
            },
            "application/json",
        )
        .will_respond_with(201)
        .with_body(reservation("held"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        held = await inventory(str(server.url)).reserve(
            order_id=42, items=[LineItem("SKU-1", 2)], idempotency_key="order-42-reserve"
        )
    assert held == Reservation(id=7, order_id=42, status="held")


async def test_a_reservation_beyond_the_stock_is_refused(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request to reserve more than the stock")
        .given("a product exists", sku="SKU-1", price_cents=1250, stock=1)
        .with_request("POST", "/reservations")
        .with_header("Idempotency-Key", idempotency_key("order-43-reserve"))
        .with_body(
            {
                "order_id": match.int(43),
                "items": match.each_like({"sku": sku(), "quantity": match.int(5)}, min=1),
            },
            "application/json",
        )
        .will_respond_with(409)
        .with_body(error_body("insufficient_stock"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server, pytest.raises(Refused) as refused:
        await inventory(str(server.url)).reserve(
            order_id=43, items=[LineItem("SKU-1", 5)], idempotency_key="order-43-reserve"
        )
    assert (refused.value.status_code, refused.value.error) == (409, "insufficient_stock")


@pytest.mark.parametrize(("action", "status"), [("confirm", "confirmed"), ("cancel", "cancelled")])
async def test_a_held_reservation_is_settled(new_pact: NewPact, action: str, status: str) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving(f"a request to {action} a held reservation")
        .given("a reservation exists", reservation_id=7, order_id=42, status="held")
        .with_request("POST", f"/reservations/7/{action}")
        .with_header("Idempotency-Key", idempotency_key(f"order-42-{action}"))
        .will_respond_with(200)
        .with_body(reservation(status), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        settle = getattr(inventory(str(server.url)), action)
        settled = await settle(7, idempotency_key=f"order-42-{action}")
    assert settled == Reservation(id=7, order_id=42, status=status)


async def test_a_reservation_is_looked_up(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request from orders for a reservation")
        .given("a reservation exists", reservation_id=7, order_id=42, status="held")
        .with_request("GET", "/reservations/7")
        .will_respond_with(200)
        .with_body(reservation("held"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        found = await inventory(str(server.url)).get_reservation(7)
    assert found == Reservation(id=7, order_id=42, status="held")


async def test_an_unknown_reservation_is_reported_missing(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request from orders for an unknown reservation")
        .with_request("GET", "/reservations/404")
        .will_respond_with(404)
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert await inventory(str(server.url)).get_reservation(404) is None


async def test_the_reservations_of_an_order_are_listed(new_pact: NewPact) -> None:
    pact = new_pact("orders", "inventory")
    (
        pact.upon_receiving("a request for the reservations of an order")
        .given("a reservation exists", reservation_id=7, order_id=42, status="held")
        .with_request("GET", "/reservations")
        .with_query_parameter("order_id", match.regex("42", regex=r"^\d+$"))
        .will_respond_with(200)
        .with_body({"items": match.each_like(reservation("held"), min=1)}, "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        found = await inventory(str(server.url)).reservations_for_order(42)
    assert found == [Reservation(id=7, order_id=42, status="held")]
