"""Regression (schemathesis positive_data_acceptance): repeated lines of one sku whose
quantities add up past the bound of a single line are a valid request; they ask for more
than any stock, so the answer is 409 `insufficient_stock` (it was a 422)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from shop.common.validation import MAX_DB_INT
from shop.inventory.app import build_app
from shop.inventory.settings import InventorySettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


@pytest.mark.anyio
async def test_lines_adding_up_past_the_bound_are_insufficient_stock(
    tmp_path: Path, app_client: AppClient
) -> None:
    app = build_app(InventorySettings(database_url=f"sqlite:///{tmp_path / 'inventory.db'}"))
    client = await app_client(app)
    product = {"sku": "SKU-46", "name": "mug", "price_cents": 1, "stock": MAX_DB_INT}
    assert (await client.post("/products", json=product)).status_code == 201
    lines = [{"sku": "SKU-46", "quantity": 39}, {"sku": "SKU-46", "quantity": MAX_DB_INT}]
    response = await client.post(
        "/reservations",
        json={"order_id": 427, "items": lines},
        headers={"Idempotency-Key": "k-427"},
    )
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "insufficient_stock"
    assert body["requested"] == MAX_DB_INT + 39
    assert body["available"] == MAX_DB_INT
    stock = (await client.get("/products/SKU-46")).json()
    assert (stock["stock"], stock["reserved"]) == (MAX_DB_INT, 0)
