"""gateway -> orders: the gateway's /api/orders routes, relayed to orders."""

from __future__ import annotations

import httpx
from node_shop_pact import JSON, UNUSED_URL, StartConsumer, error_body, order_body
from pact import match

from harness.contracts.consumer import NewPact

ORDER = {"user_id": 7, "items": [{"sku": "SKU-1", "quantity": 2}]}


def order_request() -> dict[str, object]:
    return {
        "user_id": match.int(7),
        "items": match.each_like({"sku": match.str("SKU-1"), "quantity": match.int(2)}, min=1),
    }


def test_gateway_places_an_order(new_pact: NewPact, start_consumer: StartConsumer) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from gateway to place an order for a known user")
        .given("a user exists", id=7)
        .with_request("POST", "/orders")
        .with_header("Content-Type", "application/json")
        .with_body(order_request(), content_type=JSON)
        .will_respond_with(201)
        .with_body(order_body(1, 7), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", ORDERS_URL=str(mock.url), USERS_URL=UNUSED_URL)
        answer = httpx.post(f"{gateway}/api/orders", json=ORDER)
    assert answer.status_code == 201
    assert answer.json()["status"] == "accepted"


def test_gateway_relays_an_unknown_user_as_422(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from gateway to place an order for an unknown user")
        .given("no user exists")
        .with_request("POST", "/orders")
        .with_header("Content-Type", "application/json")
        .with_body(order_request(), content_type=JSON)
        .will_respond_with(422)
        .with_body(error_body("unknown_user"), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", ORDERS_URL=str(mock.url), USERS_URL=UNUSED_URL)
        answer = httpx.post(f"{gateway}/api/orders", json=ORDER)
    assert answer.status_code == 422
    assert answer.json()["error"] == "unknown_user"


def test_gateway_relays_an_order(new_pact: NewPact, start_consumer: StartConsumer) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from gateway for an existing order")
        .given("an order exists", id=42, user_id=7)
        .with_request("GET", "/orders/42")
        .will_respond_with(200)
        .with_body(order_body(42, 7), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", ORDERS_URL=str(mock.url), USERS_URL=UNUSED_URL)
        answer = httpx.get(f"{gateway}/api/orders/42")
    assert answer.status_code == 200
    assert answer.json()["id"] == 42


def test_gateway_relays_an_unknown_order_as_404(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("gateway", "orders")
    (
        pact.upon_receiving("a request from gateway for an unknown order")  # no provider state
        .with_request("GET", "/orders/404")
        .will_respond_with(404)
        .with_body(error_body("order_not_found"), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", ORDERS_URL=str(mock.url), USERS_URL=UNUSED_URL)
        answer = httpx.get(f"{gateway}/api/orders/404")
    assert answer.status_code == 404
    assert answer.json()["error"] == "order_not_found"
