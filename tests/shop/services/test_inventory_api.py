"""inventory in-process (ASGI) on a temp SQLite DB: products, reservations, idempotency, races."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.inventory.app import build_app
from shop.inventory.settings import InventorySettings

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


def inventory_app(tmp_path: Path, *, test_mode: bool = False) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    return build_app(InventorySettings(database_url=url, shop_test_mode=test_mode))


@pytest.fixture
async def client(tmp_path: Path, app_client: AppClient) -> httpx.AsyncClient:
    return await app_client(inventory_app(tmp_path))


async def add_product(client: httpx.AsyncClient, sku: str, stock: int, price: int = 500) -> None:
    body = {"sku": sku, "name": f"product {sku}", "price_cents": price, "stock": stock}
    response = await client.post("/products", json=body)
    assert response.status_code == 201, response.text


async def product(client: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/products/{sku}")).json()
    return body


async def reserve(
    client: httpx.AsyncClient, key: str, items: list[tuple[str, int]], order_id: int = 1
) -> httpx.Response:
    body = {"order_id": order_id, "items": [{"sku": s, "quantity": q} for s, q in items]}
    return await client.post("/reservations", json=body, headers={"Idempotency-Key": key})


# -- products ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_product_then_get_and_list_it(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5, price=1299)
    expected = {"sku": "SKU-1", "name": "product SKU-1", "price_cents": 1299, "stock": 5}
    assert await product(client, "SKU-1") == {**expected, "reserved": 0}
    listing = (await client.get("/products")).json()
    assert listing == {"items": [{**expected, "reserved": 0}], "total": 1}


@pytest.mark.anyio
async def test_duplicate_sku_is_a_409(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    body = {"sku": "SKU-1", "name": "again", "price_cents": 1, "stock": 1}
    response = await client.post("/products", json=body)
    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_sku"


@pytest.mark.anyio
async def test_unknown_product_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/products/SKU-404")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "changes",
    [
        {"sku": "sku-1"},
        {"sku": "SKU-"},
        {"sku": "SKU-1a"},
        {"sku": "SKU-\u0661"},  # an Arabic-Indic digit is not [0-9]
        {"sku": 1},
        {"name": ""},
        {"name": "x" * 201},
        {"price_cents": -1},
        {"price_cents": "5"},
        {"price_cents": 5.5},
        {"stock": -1},
        {"stock": True},
        {"stock": 2**53},
        {"stock": None},
    ],
)
async def test_invalid_product_is_a_422(client: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    body = {"sku": "SKU-1", "name": "n", "price_cents": 1, "stock": 1, **changes}
    response = await client.post("/products", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


@pytest.mark.anyio
async def test_integral_json_numbers_are_integers(client: httpx.AsyncClient) -> None:
    body = {"sku": "SKU-1", "name": "n", "price_cents": 250.0, "stock": 3.0}
    response = await client.post("/products", json=body)
    assert response.status_code == 201  # JSON Schema's integer: 3.0 is one
    assert (response.json()["price_cents"], response.json()["stock"]) == (250, 3)


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/products/sku-1", "/products/SKU-1x"])
async def test_malformed_sku_in_the_path_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 422


# -- reservations -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_reservation_holds_stock_for_every_item(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    await add_product(client, "SKU-2", stock=3)
    response = await reserve(client, "k1", [("SKU-1", 2), ("SKU-2", 3)], order_id=7)
    assert response.status_code == 201
    reservation = response.json()
    assert reservation["status"] == "held"
    assert reservation["order_id"] == 7
    assert reservation["items"] == [
        {"sku": "SKU-1", "quantity": 2},
        {"sku": "SKU-2", "quantity": 3},
    ]
    assert (await product(client, "SKU-1"))["stock"] == 3
    assert (await product(client, "SKU-1"))["reserved"] == 2
    assert (await product(client, "SKU-2"))["stock"] == 0


@pytest.mark.anyio
async def test_same_key_and_same_body_replays_the_reservation(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    await add_product(client, "SKU-2", stock=5)
    first = await reserve(client, "k1", [("SKU-1", 2), ("SKU-2", 1)])
    again = await reserve(client, "k1", [("SKU-2", 1), ("SKU-1", 2)])  # same items, other order
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (await product(client, "SKU-1"))["stock"] == 3


@pytest.mark.anyio
async def test_lines_for_the_same_sku_add_up(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    response = await reserve(client, "k1", [("SKU-1", 1), ("SKU-1", 2)])
    assert response.status_code == 201
    assert response.json()["items"] == [{"sku": "SKU-1", "quantity": 3}]
    assert (await product(client, "SKU-1"))["stock"] == 2


@pytest.mark.anyio
async def test_same_key_with_another_body_is_a_409(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    await reserve(client, "k1", [("SKU-1", 2)])
    response = await reserve(client, "k1", [("SKU-1", 3)])
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_reused"
    assert (await product(client, "SKU-1"))["stock"] == 3


@pytest.mark.anyio
async def test_insufficient_stock_is_a_409_and_reserves_nothing(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    await add_product(client, "SKU-2", stock=1)
    response = await reserve(client, "k1", [("SKU-1", 2), ("SKU-2", 2)])
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "insufficient_stock"
    assert (body["sku"], body["requested"], body["available"]) == ("SKU-2", 2, 1)
    assert (await product(client, "SKU-1"))["stock"] == 5  # all or nothing
    assert (await client.get("/reservations")).json()["total"] == 0


@pytest.mark.anyio
async def test_unknown_sku_is_a_404_and_reserves_nothing(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    response = await reserve(client, "k1", [("SKU-1", 1), ("SKU-9", 1)])
    assert response.status_code == 404
    assert (await product(client, "SKU-1"))["stock"] == 5


@pytest.mark.anyio
async def test_failed_reservation_does_not_burn_its_key(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=1)
    assert (await reserve(client, "k1", [("SKU-1", 2)])).status_code == 409
    await add_product(client, "SKU-2", stock=1)
    assert (await reserve(client, "k1", [("SKU-2", 1)])).status_code == 201


@pytest.mark.anyio
async def test_reservation_without_idempotency_key_is_a_422(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    body = {"order_id": 1, "items": [{"sku": "SKU-1", "quantity": 1}]}
    response = await client.post("/reservations", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "idempotency-key"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {"order_id": 1, "items": []},
        {"order_id": 1, "items": [{"sku": "SKU-1", "quantity": 0}]},
        {"order_id": 1, "items": [{"sku": "SKU-1", "quantity": "1"}]},
        {"order_id": 1, "items": [{"sku": "SKU-1", "quantity": 1}] * 101},
        {"order_id": True, "items": [{"sku": "SKU-1", "quantity": 1}]},
        {"order_id": 0, "items": [{"sku": "SKU-1", "quantity": 1}]},
        {"order_id": 2**63, "items": [{"sku": "SKU-1", "quantity": 1}]},
        {"order_id": 1, "items": [{"sku": "SKU-1", "quantity": 2**64}]},
        {"order_id": 1, "items": [{"sku": "SKU-1"}]},
        {"order_id": 1, "items": "SKU-1"},
        {"items": [{"sku": "SKU-1", "quantity": 1}]},
    ],
)
async def test_invalid_reservation_is_a_422(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/reservations", json=body, headers={"Idempotency-Key": "k"})
    assert response.status_code == 422, response.text


@pytest.mark.anyio
async def test_confirm_keeps_units_out_of_stock_and_is_idempotent(
    client: httpx.AsyncClient,
) -> None:
    await add_product(client, "SKU-1", stock=5)
    reservation_id = (await reserve(client, "k1", [("SKU-1", 2)])).json()["id"]
    for _ in range(2):
        response = await client.post(f"/reservations/{reservation_id}/confirm")
        assert response.status_code == 200
        assert response.json()["status"] == "confirmed"
    assert await product(client, "SKU-1") == {
        "sku": "SKU-1",
        "name": "product SKU-1",
        "price_cents": 500,
        "stock": 3,
        "reserved": 0,
    }
    cancel = await client.post(f"/reservations/{reservation_id}/cancel")
    assert cancel.status_code == 409
    assert cancel.json()["error"] == "reservation_confirmed"


@pytest.mark.anyio
async def test_cancel_releases_stock_exactly_once(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    reservation_id = (await reserve(client, "k1", [("SKU-1", 2)])).json()["id"]
    for _ in range(3):
        response = await client.post(f"/reservations/{reservation_id}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
    assert (await product(client, "SKU-1"))["stock"] == 5
    assert (await product(client, "SKU-1"))["reserved"] == 0
    confirm = await client.post(f"/reservations/{reservation_id}/confirm")
    assert confirm.status_code == 409
    assert confirm.json()["error"] == "reservation_cancelled"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/reservations/999"),
        ("POST", "/reservations/999/confirm"),
        ("POST", "/reservations/999/cancel"),
    ],
)
async def test_unknown_reservation_is_a_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path", ["/reservations/0", "/reservations/x", f"/reservations/{2**64}/cancel"]
)
async def test_invalid_reservation_id_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    method = "POST" if path.endswith("cancel") else "GET"
    assert (await client.request(method, path)).status_code == 422


@pytest.mark.anyio
async def test_reservations_can_be_listed_by_order(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=10)
    await reserve(client, "a", [("SKU-1", 1)], order_id=1)
    await reserve(client, "b", [("SKU-1", 1)], order_id=2)
    await reserve(client, "c", [("SKU-1", 1)], order_id=2)
    listing = (await client.get("/reservations", params={"order_id": 2})).json()
    assert listing["total"] == 2
    assert {r["order_id"] for r in listing["items"]} == {2}
    assert (await client.get("/reservations")).json()["total"] == 3


# -- concurrency ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_reservations_never_drive_stock_negative(
    client: httpx.AsyncClient,
) -> None:
    await add_product(client, "SKU-1", stock=5)
    responses = await asyncio.gather(
        *(reserve(client, f"key-{i}", [("SKU-1", 1)], order_id=i + 1) for i in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15
    assert (await product(client, "SKU-1"))["stock"] == 0
    assert (await product(client, "SKU-1"))["reserved"] == 5


@pytest.mark.anyio
async def test_concurrent_replays_of_one_key_reserve_once(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=50)
    responses = await asyncio.gather(*(reserve(client, "same", [("SKU-1", 2)]) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await product(client, "SKU-1"))["stock"] == 48


@pytest.mark.anyio
async def test_concurrent_cancels_release_stock_once(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    reservation_id = (await reserve(client, "k", [("SKU-1", 3)])).json()["id"]
    path = f"/reservations/{reservation_id}/cancel"
    responses = await asyncio.gather(*(client.post(path) for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert (await product(client, "SKU-1"))["stock"] == 5


@pytest.mark.anyio
async def test_concurrent_confirm_and_cancel_settle_one_way(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    reservation_id = (await reserve(client, "k", [("SKU-1", 3)])).json()["id"]
    confirm, cancel = await asyncio.gather(
        client.post(f"/reservations/{reservation_id}/confirm"),
        client.post(f"/reservations/{reservation_id}/cancel"),
    )
    assert sorted([confirm.status_code, cancel.status_code]) == [200, 409]
    stock = await product(client, "SKU-1")
    final = (await client.get(f"/reservations/{reservation_id}")).json()["status"]
    assert (stock["stock"], stock["reserved"]) == ((2, 0) if final == "confirmed" else (5, 0))


# -- test mode --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_test_reset_deletes_everything_in_test_mode(
    tmp_path: Path, app_client: AppClient
) -> None:
    client = await app_client(inventory_app(tmp_path, test_mode=True))
    await add_product(client, "SKU-1", stock=5)
    await reserve(client, "k", [("SKU-1", 1)])
    assert (await client.post("/_test/reset")).status_code == 204
    assert (await client.get("/products")).json()["total"] == 0
    assert (await client.get("/reservations")).json()["total"] == 0


@pytest.mark.anyio
async def test_test_reset_is_absent_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_test/reset")).status_code == 404


@pytest.mark.anyio
async def test_openapi_documents_the_replay_and_conflict_answers(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    responses = paths["/reservations"]["post"]["responses"]
    assert {"200", "201", "404", "409", "422"} <= set(responses)
    parameters = paths["/reservations"]["post"]["parameters"]
    assert parameters[0]["name"] == "idempotency-key"
    assert parameters[0]["required"] is True


# -- settling a reserve key -------------------------------------------------------------------


async def void(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/reservation-voids", json={"idempotency_key": key})


@pytest.mark.anyio
async def test_voiding_an_unused_key_refuses_a_later_reservation_under_it(
    client: httpx.AsyncClient,
) -> None:
    await add_product(client, "SKU-1", stock=5)
    first, again = await void(client, "r-void"), await void(client, "r-void")
    assert first.status_code == again.status_code == 200
    assert (
        first.json()
        == again.json()
        == {
            "idempotency_key": "r-void",
            "voided": True,
            "reservation": None,
        }
    )
    late = await reserve(client, "r-void", [("SKU-1", 2)])
    assert (late.status_code, late.json()["error"]) == (409, "idempotency_key_voided")
    assert (await product(client, "SKU-1"))["stock"] == 5


@pytest.mark.anyio
async def test_voiding_a_used_key_answers_its_reservation(client: httpx.AsyncClient) -> None:
    await add_product(client, "SKU-1", stock=5)
    made = (await reserve(client, "r-used", [("SKU-1", 2)])).json()
    settled = (await void(client, "r-used")).json()
    assert settled == {"idempotency_key": "r-used", "voided": False, "reservation": made}
    assert (await reserve(client, "r-used", [("SKU-1", 2)])).status_code == 200  # a replay


@pytest.mark.anyio
async def test_a_void_needs_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.post("/reservation-voids", json={})).status_code == 422
    assert (await void(client, "")).status_code == 422


@pytest.mark.anyio
async def test_a_reservation_and_a_void_racing_for_one_key_agree_on_who_won(
    client: httpx.AsyncClient,
) -> None:
    await add_product(client, "SKU-1", stock=100)
    for round_ in range(10):
        key = f"r-race-{round_}"
        reserved, voided = await asyncio.gather(
            reserve(client, key, [("SKU-1", 1)]), void(client, key)
        )
        if voided.json()["voided"]:
            assert (reserved.status_code, reserved.json()["error"]) == (
                409,
                "idempotency_key_voided",
            )
        else:
            assert reserved.status_code == 201
            assert voided.json()["reservation"] == reserved.json()
    held = (await product(client, "SKU-1"))["reserved"]
    made = (await client.get("/reservations")).json()["total"]
    assert held == made  # every unit held belongs to a reservation a void did not refuse
