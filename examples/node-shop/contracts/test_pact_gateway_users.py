"""gateway -> users: the gateway's /api/users routes, relayed to users."""

from __future__ import annotations

import httpx
from node_shop_pact import JSON, UNUSED_URL, StartConsumer, error_body, user_body
from pact import match

from harness.contracts.consumer import NewPact


def test_gateway_relays_an_existing_user(new_pact: NewPact, start_consumer: StartConsumer) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from gateway for an existing user")
        .given("a user exists", id=7, name="Ada Lovelace", email="ada@example.test")
        .with_request("GET", "/users/7")
        .will_respond_with(200)
        .with_body(user_body(7), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", USERS_URL=str(mock.url), ORDERS_URL=UNUSED_URL)
        answer = httpx.get(f"{gateway}/api/users/7")
    assert answer.status_code == 200
    assert answer.json() == {"id": 7, "name": "Ada Lovelace", "email": "ada@example.test"}


def test_gateway_relays_an_unknown_user_as_404(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from gateway for an unknown user")
        .given("no user exists")
        .with_request("GET", "/users/404")
        .will_respond_with(404)
        .with_body(error_body("user_not_found"), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", USERS_URL=str(mock.url), ORDERS_URL=UNUSED_URL)
        answer = httpx.get(f"{gateway}/api/users/404")
    assert answer.status_code == 404
    assert answer.json()["error"] == "user_not_found"


def test_gateway_creates_a_user(new_pact: NewPact, start_consumer: StartConsumer) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from gateway to create a user")  # no provider state
        .with_request("POST", "/users")
        .with_header("Content-Type", "application/json")
        .with_body(
            {"name": match.str("Grace Hopper"), "email": match.str("grace@example.test")},
            content_type=JSON,
        )
        .will_respond_with(201)
        .with_body(user_body(1), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", USERS_URL=str(mock.url), ORDERS_URL=UNUSED_URL)
        answer = httpx.post(
            f"{gateway}/api/users", json={"name": "Grace Hopper", "email": "grace@example.test"}
        )
    assert answer.status_code == 201
    assert answer.json()["id"] == 1


def test_gateway_relays_an_invalid_user_as_400(
    new_pact: NewPact, start_consumer: StartConsumer
) -> None:
    pact = new_pact("gateway", "users")
    (
        pact.upon_receiving("a request from gateway to create a user without an email")
        .with_request("POST", "/users")
        .with_header("Content-Type", "application/json")
        .with_body({"name": match.str("Nobody")}, content_type=JSON)
        .will_respond_with(400)
        .with_body(error_body("invalid_user"), content_type=JSON)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        gateway = start_consumer("gateway", USERS_URL=str(mock.url), ORDERS_URL=UNUSED_URL)
        answer = httpx.post(f"{gateway}/api/users", json={"name": "Nobody"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_user"
