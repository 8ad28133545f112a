"""orders -> users: the saga's first step asks whether the user exists (`UsersClient`)."""

from __future__ import annotations

import pytest
from consumer_support import orders_client
from shop.orders.clients import UsersClient

from harness.contracts.consumer import NewPact

pytestmark = pytest.mark.anyio


async def test_an_existing_user_is_found(new_pact: NewPact) -> None:
    pact = new_pact("orders", "users")
    (
        pact.upon_receiving("a request from orders for an existing user")
        .given("a user exists", user_id=7)
        .with_request("GET", "/users/7")
        .will_respond_with(200)
    )
    with pact.serve(addr="127.0.0.1") as server:
        users = UsersClient(orders_client("users", str(server.url)))
        assert await users.user_exists(7) is True


async def test_an_unknown_user_is_reported_missing(new_pact: NewPact) -> None:
    pact = new_pact("orders", "users")
    (
        pact.upon_receiving("a request from orders for an unknown user")
        .given("no such user", user_id=404)
        .with_request("GET", "/users/404")
        .will_respond_with(404)
    )
    with pact.serve(addr="127.0.0.1") as server:
        users = UsersClient(orders_client("users", str(server.url)))
        assert await users.user_exists(404) is False
