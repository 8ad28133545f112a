"""Regression (schemathesis positive_data_acceptance): a blank name is refused, and the
document says so.

users and inventory documented `name` as `minLength: 1`, so " " was valid per the document,
yet the services stripped it first and answered 422. Now the document adds the pattern `\\S`,
lengths are checked on the name as sent (the document's `maxLength`), and the stored name
is stripped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from shop.inventory.app import build_app as build_inventory
from shop.inventory.settings import InventorySettings
from shop.users.app import build_app as build_users
from shop.users.settings import UsersSettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


def users(tmp_path: Path) -> FastAPI:
    return build_users(UsersSettings(database_url=f"sqlite:///{tmp_path / 'users.db'}"))


def inventory(tmp_path: Path) -> FastAPI:
    return build_inventory(InventorySettings(database_url=f"sqlite:///{tmp_path / 'inv.db'}"))


def user(name: str) -> dict[str, object]:
    return {"name": name, "email": "ada@example.com"}


def product(name: str) -> dict[str, object]:
    return {"sku": "SKU-1", "name": name, "price_cents": 1, "stock": 1}


SERVICES = [(users, user, "/users", 100), (inventory, product, "/products", 200)]


@pytest.mark.anyio
@pytest.mark.parametrize(("build", "body", "path", "max_length"), SERVICES)
async def test_the_document_says_a_name_is_not_blank(
    build: Callable[[Path], FastAPI],
    body: object,
    path: str,
    max_length: int,
    tmp_path: Path,
    app_client: AppClient,
) -> None:
    client = await app_client(build(tmp_path))
    document = (await client.get("/openapi.json")).json()
    schema_name = "UserCreate" if path == "/users" else "ProductCreate"
    name = document["components"]["schemas"][schema_name]["properties"]["name"]
    assert name == {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": "\\S",
        "title": "Name",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(("build", "body", "path", "max_length"), SERVICES)
@pytest.mark.parametrize("blank", [" ", "   ", "\t\n"])
async def test_a_blank_name_is_a_422(
    build: Callable[[Path], FastAPI],
    body: Callable[[str], dict[str, object]],
    path: str,
    max_length: int,
    blank: str,
    tmp_path: Path,
    app_client: AppClient,
) -> None:
    client = await app_client(build(tmp_path))
    response = await client.post(path, json=body(blank))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


@pytest.mark.anyio
@pytest.mark.parametrize(("build", "body", "path", "max_length"), SERVICES)
async def test_a_name_is_stored_stripped_and_measured_as_sent(
    build: Callable[[Path], FastAPI],
    body: Callable[[str], dict[str, object]],
    path: str,
    max_length: int,
    tmp_path: Path,
    app_client: AppClient,
) -> None:
    client = await app_client(build(tmp_path))
    too_long = " " + "x" * max_length  # max_length characters once stripped, one more as sent
    response = await client.post(path, json=body(too_long))
    assert response.status_code == 422, response.text
    created = await client.post(path, json=body("  Ada  "))
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Ada"
