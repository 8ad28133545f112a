"""orders -> users: before accepting an order, orders asks users whether the user exists.

orders reads only the status (200: accept, 404: refuse with 422), so that is all these
interactions ask of users.
"""

from __future__ import annotations

import httpx
from node_shop_pact import StartConsumer

from harness.contracts.consumer import NewPact

ORDER = {"items": [{"sku": "SKU-1", "quantity": 2}]}


def test_an_order_for_an_existing_user_is_accepted(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("orders", "users")
    (
        pact.upon_receiving("a request from orders for an existing user")
        .given("a user exists", id=7)
        .with_request("GET", "/users/7")
        .will_respond_with(200)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        orders = start_consumer("orders", USERS_URL=str(mock.url))
        answer = httpx.post(f"{orders}/orders", json={"user_id": 7, **ORDER})
    assert answer.status_code == 201
    assert answer.json()["user_id"] == 7


def test_an_order_for_an_unknown_user_is_refused(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("orders", "users")
    (
        pact.upon_receiving("a request from orders for an unknown user")
        .given("no user exists")
        .with_request("GET", "/users/404")
        .will_respond_with(404)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        orders = start_consumer("orders", USERS_URL=str(mock.url))
        answer = httpx.post(f"{orders}/orders", json={"user_id": 404, **ORDER})
    assert answer.status_code == 422
    assert answer.json()["error"] == "unknown_user"
