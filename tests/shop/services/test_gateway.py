"""The gateway in-process in front of the real services: auth, rate limit, routing, aggregation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from shop.common.metrics import sample_value
from shop.gateway.ratelimit import RateLimiter
from shop.gateway.settings import GatewaySettings
from shop_wiring import ORDER, Shop, running_shop

pytestmark = pytest.mark.anyio

DEMO = {"Authorization": "Bearer demo-token"}
READER = {"Authorization": "Bearer readonly-token"}


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with running_shop(tmp_path) as shop:
        await shop.add_product("SKU-1", price_cents=250, stock=10)
        yield shop


async def place_order(shop: Shop, key: str = "k-1", **extra: Any) -> Any:
    user_id = await shop.add_user()
    headers = {**DEMO, "Idempotency-Key": key}
    return await shop.gateway.post(
        "/api/orders", json={**ORDER, "user_id": user_id, **extra}, headers=headers
    )


async def test_no_token_is_a_401_with_a_bearer_challenge(shop: Shop) -> None:
    response = await shop.gateway.get("/api/products")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert shop.gateway_edges["inventory"].requests == []


@pytest.mark.parametrize("authorization", ["Bearer nope", "Basic ZGVtbzpkZW1v", "demo-token"])
async def test_unknown_tokens_and_schemes_are_401(shop: Shop, authorization: str) -> None:
    response = await shop.gateway.get("/api/products", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


async def test_a_token_without_the_scope_is_a_403(shop: Shop) -> None:
    assert (await shop.gateway.get("/api/products", headers=READER)).status_code == 200
    response = await shop.gateway.post(
        "/api/orders", json={**ORDER, "user_id": 1}, headers={**READER, "Idempotency-Key": "k"}
    )
    assert response.status_code == 403
    assert 'scope="orders:write"' in response.headers["WWW-Authenticate"]
    assert shop.gateway_edges["orders"].requests == []


async def test_a_client_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    clock = ManualClock()
    limits = {"gateway_rate_limit_rps": 0.5, "gateway_rate_limit_burst": 2}
    async with running_shop(tmp_path, gateway_settings=limits, gateway_clock=clock) as shop:
        limited_before = sample_value(
            "shop_rate_limited_total", {"service": "gateway", "client": "demo"}
        )
        statuses = [
            (await shop.gateway.get("/api/products", headers=DEMO)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        refused = await shop.gateway.get("/api/products", headers=DEMO)
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["error"] == "rate_limited"
        # Buckets are per client: the reader still has its own.
        assert (await shop.gateway.get("/api/products", headers=READER)).status_code == 200
        clock.now += 2.0
        assert (await shop.gateway.get("/api/products", headers=DEMO)).status_code == 200
        limited = sample_value("shop_rate_limited_total", {"service": "gateway", "client": "demo"})
        assert limited == limited_before + 2


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    clock = ManualClock()
    limiter = RateLimiter(rate=10.0, burst=3, clock=clock)
    assert [limiter.check("c") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("c") == pytest.approx(0.1)
    clock.now += 10.0
    assert [limiter.check("c") == 0.0 for _ in range(4)] == [True, True, True, False]
    assert RateLimiter(rate=0, burst=1, clock=clock).check("c") == 0.0


async def test_an_order_placed_through_the_gateway_is_confirmed_and_replayable(
    shop: Shop,
) -> None:
    response = await place_order(shop)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "confirmed"
    [(method, path)] = shop.gateway_edges["orders"].requests
    assert (method, path) == ("POST", "/orders")
    assert shop.gateway_edges["orders"].seen[0].headers["Idempotency-Key"] == "k-1"
    again = await shop.gateway.post(
        "/api/orders",
        json={**ORDER, "user_id": order["user_id"]},
        headers={**DEMO, "Idempotency-Key": "k-1"},
    )
    assert (again.status_code, again.json()["id"]) == (200, order["id"])
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_a_declined_card_passes_through_as_402(shop: Shop) -> None:
    response = await place_order(shop, card_token="tok_declined")
    assert response.status_code == 402
    assert response.json()["order"]["status"] == "cancelled"


async def test_an_order_without_idempotency_key_is_a_422(shop: Shop) -> None:
    response = await shop.gateway.post("/api/orders", json={**ORDER, "user_id": 1}, headers=DEMO)
    assert response.status_code == 422
    assert shop.gateway_edges["orders"].requests == []


async def test_request_id_is_echoed_and_propagated_to_the_services(shop: Shop) -> None:
    response = await shop.gateway.get(
        "/api/products/SKU-1", headers={**DEMO, "X-Request-ID": "trace-42"}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-42"
    assert shop.gateway_edges["inventory"].seen[-1].headers["X-Request-ID"] == "trace-42"
    created = await shop.gateway.get("/api/products/SKU-1", headers=DEMO)
    assert (
        created.headers["X-Request-ID"]
        == shop.gateway_edges["inventory"].seen[-1].headers["X-Request-ID"]
    )


async def test_the_order_view_aggregates_the_payment_and_the_user(shop: Shop) -> None:
    order = (await place_order(shop)).json()
    response = await shop.gateway.get(f"/api/orders/{order['id']}", headers=READER)
    assert response.status_code == 200
    view = response.json()
    assert view["order"]["id"] == order["id"]
    assert view["payment"]["id"] == order["payment_id"]
    assert view["user"]["id"] == order["user_id"]
    assert view["degraded"] == []


@pytest.mark.parametrize(("down", "part"), [("payments", "payment"), ("users", "user")])
async def test_the_order_view_degrades_when_a_non_critical_service_is_down(
    shop: Shop, down: str, part: str
) -> None:
    order = (await place_order(shop)).json()
    shop.gateway_edges[down].refuse("GET", r"/.*")
    response = await shop.gateway.get(f"/api/orders/{order['id']}", headers=READER)
    assert response.status_code == 200
    view = response.json()
    assert view["degraded"] == [down]
    assert view[part] is None
    assert view["order"]["id"] == order["id"]


async def test_the_order_view_fails_when_orders_is_down_or_the_order_unknown(shop: Shop) -> None:
    assert (await shop.gateway.get("/api/orders/999", headers=READER)).status_code == 404
    shop.gateway_edges["orders"].refuse("GET", r"/orders/\d+")
    response = await shop.gateway.get("/api/orders/1", headers=READER)
    assert response.status_code == 503
    assert (response.json()["error"], response.json()["dependency"]) == (
        "dependency_unavailable",
        "orders",
    )


async def test_user_and_product_routes_pass_answers_through(shop: Shop) -> None:
    created = await shop.gateway.post(
        "/api/users", json={"name": "Bo", "email": "bo@example.com"}, headers=DEMO
    )
    assert created.status_code == 201
    duplicate = await shop.gateway.post(
        "/api/users", json={"name": "Bo", "email": "bo@example.com"}, headers=DEMO
    )
    assert duplicate.status_code == 409
    fetched = await shop.gateway.get(f"/api/users/{created.json()['id']}", headers=READER)
    assert fetched.json()["email"] == "bo@example.com"
    assert (await shop.gateway.get("/api/users/999", headers=READER)).status_code == 404
    products = (await shop.gateway.get("/api/products", headers=READER)).json()
    assert [p["sku"] for p in products["items"]] == ["SKU-1"]
    assert (await shop.gateway.get("/api/products/SKU-9", headers=READER)).status_code == 404
    assert (await shop.gateway.get("/api/products/nope", headers=READER)).status_code == 422


async def test_an_unavailable_service_is_a_503(shop: Shop) -> None:
    shop.gateway_edges["inventory"].refuse("GET", r"/.*")
    response = await shop.gateway.get("/api/products", headers=READER)
    assert response.status_code == 503
    assert response.json()["dependency"] == "inventory"


async def test_ready_lists_every_service_breaker_and_openapi_declares_bearer_auth(
    shop: Shop,
) -> None:
    ready = (await shop.gateway.get("/ready")).json()
    assert set(ready["dependencies"]) == {"users", "orders", "inventory", "payments"}
    document = (await shop.gateway.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_tokens_come_from_gateway_tokens_json(monkeypatch: pytest.MonkeyPatch) -> None:
    grants = {"t-1": {"client": "ci", "scopes": ["catalog:read"]}}
    monkeypatch.setenv("GATEWAY_TOKENS", json.dumps(grants))
    settings = GatewaySettings()
    assert settings.gateway_tokens["t-1"].client == "ci"
    assert settings.gateway_tokens["t-1"].scopes == frozenset({"catalog:read"})


def test_default_tokens_are_the_documented_demo_and_reader() -> None:
    tokens = GatewaySettings().gateway_tokens
    assert tokens["demo-token"].client == "demo"
    assert len(tokens["demo-token"].scopes) == 5
    assert tokens["readonly-token"].scopes == frozenset(
        {"users:read", "catalog:read", "orders:read"}
    )


def test_orders_gets_a_longer_timeout_than_the_other_services() -> None:
    settings = GatewaySettings(gateway_orders_timeout=6.0)
    orders = settings.for_dependency("orders")
    assert orders.http_read_timeout == 6.0
    assert orders.breaker_slow_call_seconds == pytest.approx(4.8)
    assert settings.for_dependency("users") is settings
