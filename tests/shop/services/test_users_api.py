"""users service in-process (ASGI) on a temp SQLite DB: CRUD, validation, conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.users.app import build_app
from shop.users.settings import UsersSettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


def users_app(tmp_path: Path, *, test_mode: bool = False) -> FastAPI:
    return build_app(
        UsersSettings(database_url=f"sqlite:///{tmp_path / 'users.db'}", shop_test_mode=test_mode)
    )


@pytest.fixture
async def client(tmp_path: Path, app_client: AppClient) -> httpx.AsyncClient:
    return await app_client(users_app(tmp_path))


async def create(client: httpx.AsyncClient, name: str, email: str) -> dict[str, Any]:
    response = await client.post("/users", json={"name": name, "email": email})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.anyio
async def test_create_user_returns_the_user_with_id_and_timestamp(
    client: httpx.AsyncClient,
) -> None:
    user = await create(client, "Ada Lovelace", "ada@example.com")
    assert user["id"] >= 1
    assert (user["name"], user["email"]) == ("Ada Lovelace", "ada@example.com")
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
    assert (await client.get(f"/users/{user['id']}")).json() == user


@pytest.mark.anyio
async def test_special_use_test_domain_is_a_valid_email(client: httpx.AsyncClient) -> None:
    user = await create(client, "Fuzzer", "someone@example.test")
    assert user["email"] == "someone@example.test"


@pytest.mark.anyio
async def test_duplicate_email_is_a_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    await create(client, "Ada", "ada@example.com")
    response = await client.post("/users", json={"name": "Other", "email": "ADA@example.com"})
    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_email"


@pytest.mark.anyio
async def test_concurrent_creations_with_one_email_make_one_user(
    client: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/users", json={"name": f"n{i}", "email": "race@example.com"})
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert (await client.get("/users")).json()["total"] == 1


@pytest.mark.anyio
async def test_list_users_pages_in_id_order_with_the_total(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await create(client, f"user {i}", f"u{i}@example.com")
    page = (await client.get("/users", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 5
    assert [u["name"] for u in page["items"]] == ["user 1", "user 2"]


@pytest.mark.anyio
async def test_patch_changes_only_the_given_fields(client: httpx.AsyncClient) -> None:
    user = await create(client, "Ada", "ada@example.com")
    patched = (await client.patch(f"/users/{user['id']}", json={"name": "Ada L."})).json()
    assert patched == {**user, "name": "Ada L."}
    unchanged = await client.patch(f"/users/{user['id']}", json={})
    assert unchanged.status_code == 200
    assert unchanged.json() == patched


@pytest.mark.anyio
async def test_patch_to_a_taken_email_is_a_409(client: httpx.AsyncClient) -> None:
    await create(client, "Ada", "ada@example.com")
    bob = await create(client, "Bob", "bob@example.com")
    response = await client.patch(f"/users/{bob['id']}", json={"email": "ada@example.com"})
    assert response.status_code == 409
    assert (await client.get(f"/users/{bob['id']}")).json()["email"] == "bob@example.com"


@pytest.mark.anyio
async def test_patch_with_null_is_a_422(client: httpx.AsyncClient) -> None:
    user = await create(client, "Ada", "ada@example.com")
    response = await client.patch(f"/users/{user['id']}", json={"name": None})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.anyio
async def test_delete_removes_the_user(client: httpx.AsyncClient) -> None:
    user = await create(client, "Ada", "ada@example.com")
    assert (await client.delete(f"/users/{user['id']}")).status_code == 204
    assert (await client.get(f"/users/{user['id']}")).status_code == 404
    assert (await client.delete(f"/users/{user['id']}")).status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users/999"), ("PATCH", "/users/999"), ("DELETE", "/users/999")],
)
async def test_unknown_user_is_a_json_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        {"name": "", "email": "a@example.com"},
        {"name": "   ", "email": "a@example.com"},
        {"name": "x" * 101, "email": "a@example.com"},
        {"name": 42, "email": "a@example.com"},
        {"name": "Ada", "email": "not-an-email"},
        {"name": "Ada", "email": 7},
        {"name": "Ada"},
        {},
        [],
        "just a string",
        None,
    ],
)
async def test_invalid_user_is_a_422_with_the_error_shape(
    client: httpx.AsyncClient, payload: Any
) -> None:
    response = await client.post("/users", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path", ["/users/0", "/users/-1", "/users/abc", "/users/1.5", f"/users/{2**64}"]
)
async def test_invalid_user_id_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 2**64}, {"limit": "x"}]
)
async def test_invalid_paging_is_a_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert (await client.get("/users", params=params)).status_code == 422


@pytest.mark.anyio
async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", content=b'{"name": "Ada", ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


@pytest.mark.anyio
async def test_test_reset_deletes_every_user_in_test_mode(
    tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(users_app(tmp_path, test_mode=True))
    await create(client, "Ada", "ada@example.com")
    assert (await client.post("/_test/reset")).status_code == 204
    assert (await client.get("/users")).json() == {"items": [], "total": 0}


@pytest.mark.anyio
async def test_test_reset_is_absent_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_test/reset")).status_code == 404


@pytest.mark.anyio
async def test_openapi_documents_every_users_route(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/users"]) == {"get", "post"}
    assert set(paths["/users/{user_id}"]) == {"get", "patch", "delete"}
    assert "409" in paths["/users"]["post"]["responses"]
