"""A 405 names every method the path serves, HEAD included wherever GET is; HEAD is served.

Regression (schemathesis allow_header_conformance): Starlette answered `OPTIONS /users` with
`Allow: POST` only, because `GET /users` and `POST /users` are two routes and it lists the
methods of the first one that matches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from shop.common.app import create_app
from shop.common.db import make_engine
from shop.common.settings import ServiceSettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


def two_routes_on_one_path(service: str, tmp_path: Path) -> FastAPI:
    app = create_app(
        service=service,
        settings=ServiceSettings(),
        engine=make_engine(f"sqlite:///{tmp_path / 'demo.db'}"),
    )

    @app.post("/things", status_code=201)
    def create_thing() -> dict[str, str]:
        return {}

    @app.get("/things")
    def list_things() -> dict[str, str]:
        return {}

    @app.delete("/things/{thing_id}", status_code=204)
    def delete_thing(thing_id: int) -> None:
        return None

    return app


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/things", "GET, HEAD, POST"), ("/things/7", "DELETE"), ("/health", "GET, HEAD")],
)
async def test_method_not_allowed_lists_every_method_served_at_the_path(
    path: str, allowed: str, unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(two_routes_on_one_path(unique_service, tmp_path))
    response = await client.options(path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.anyio
async def test_method_not_allowed_lists_the_methods_of_an_included_router(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    app = create_app(
        service=unique_service,
        settings=ServiceSettings(),
        engine=make_engine(f"sqlite:///{tmp_path / 'demo.db'}"),
    )
    router = APIRouter(prefix="/api")

    @router.get("/orders/{order_id}")
    def get_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    @router.put("/orders/{order_id}")
    def replace_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    app.include_router(router)
    client = await app_client(app)
    response = await client.delete("/api/orders/1")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, PUT"


@pytest.mark.anyio
async def test_head_is_a_get_without_its_body(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(two_routes_on_one_path(unique_service, tmp_path))
    got = await client.get("/health")
    head = await client.head("/health")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["X-Request-ID"]


@pytest.mark.anyio
async def test_head_where_no_get_is_served_is_a_405(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(two_routes_on_one_path(unique_service, tmp_path))
    response = await client.head("/things/7")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE"
    assert response.content == b""
