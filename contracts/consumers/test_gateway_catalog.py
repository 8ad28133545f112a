"""gateway -> inventory: the catalogue routes `/api/products...`."""

from __future__ import annotations

import pytest
from consumer_support import error_body, gateway, product_body
from pact import match

from harness.contracts.consumer import NewPact

pytestmark = pytest.mark.anyio


async def test_the_catalogue_is_listed(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "inventory")
    (
        pact.upon_receiving("a request from the gateway for a page of products")
        .given("a product exists", sku="SKU-1", price_cents=1250, stock=10)
        .with_request("GET", "/products")
        .with_query_parameter("limit", match.regex("100", regex=r"^\d+$"))
        .with_query_parameter("offset", match.regex("0", regex=r"^\d+$"))
        .will_respond_with(200)
        .with_body(
            {"items": match.each_like(product_body(), min=1), "total": match.int(1)},
            "application/json",
        )
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"inventory": str(server.url)}) as client:
            answer = await client.get("/api/products")
    assert answer.status_code == 200
    assert answer.json()["items"][0]["sku"] == "SKU-1"


async def test_a_product_is_read(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "inventory")
    (
        pact.upon_receiving("a request from the gateway for a product")
        .given("a product exists", sku="SKU-1", price_cents=1250, stock=10)
        .with_request("GET", "/products/SKU-1")
        .will_respond_with(200)
        .with_body(product_body(), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"inventory": str(server.url)}) as client:
            answer = await client.get("/api/products/SKU-1")
    assert (answer.status_code, answer.json()["price_cents"]) == (200, 1250)


async def test_an_unknown_product_is_a_404(new_pact: NewPact) -> None:
    pact = new_pact("gateway", "inventory")
    (
        pact.upon_receiving("a request from the gateway for an unknown product")
        .given("no such product", sku="SKU-404")
        .with_request("GET", "/products/SKU-404")
        .will_respond_with(404)
        .with_body(error_body("not_found"), "application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        async with gateway({"inventory": str(server.url)}) as client:
            answer = await client.get("/api/products/SKU-404")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
