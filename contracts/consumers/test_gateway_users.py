"""gateway -> users: `/api/users` routes, relayed through the gateway's users client."""

from __future__ import annotations

import pytest
from consumer_support import error_body, gateway, user_body
from pact import match

from harness.contracts.consumer import NewPact

pytestmark = pytest.mark.anyio


async def test_a_user_is_created(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from the gateway to create a user")
        .given("no such user", email="ada@example.test")
        .with_request("POST", "/users")
        .with_body(
            {
                "name": match.str("Ada Lovelace"),
                "email": match.regex("ada@example.test", regex=r"^[^@\s]+@[^@\s]+$"),
            },
            "application/json",
        )
        .will_respond_with(201)
        .with_body(user_body(), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"users": str(server.url)}) as client:
            answer = await client.post(
                "/api/users", json={"name": "Ada Lovelace", "email": "ada@example.test"}
            )
    assert answer.status_code == 201
    assert answer.json()["email"] == "ada@example.test"


async def test_a_user_is_read(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from the gateway for a user")
        .given("a user exists", user_id=7, name="Ada Lovelace", email="ada@example.test")
        .with_request("GET", "/users/7")
        .will_respond_with(200)
        .with_body(user_body(7), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"users": str(server.url)}) as client:
            answer = await client.get("/api/users/7")
    assert answer.status_code == 200
    assert answer.json()["id"] == 7


async def test_an_unknown_user_is_a_404(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from the gateway for an unknown user")
        .given("no such user", user_id=404)
        .with_request("GET", "/users/404")
        .will_respond_with(404)
        .with_body(error_body("not_found"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"users": str(server.url)}) as client:
            answer = await client.get("/api/users/404")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
