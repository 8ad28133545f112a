"""Orders racing faults: what load found, each pinned down with the real sibling apps.

- A charge stuck in a stalled payments server reached it after the saga had looked it up,
  found nothing and cancelled the order: the cancelled order kept a captured charge (and
  the same with a reservation stuck in a stalled inventory: stock held for good).
- A declined card whose answer was lost, with payments unreachable while the saga looked,
  ended the order as `dependency_unavailable`.
- A keyed replay of an order that failed answered 200, so a retrying client (the gateway)
  reported success for an order that had failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from shop_wiring import ORDER, Shop, running_shop

pytestmark = pytest.mark.anyio

# Every way the saga can ask payments what became of a charge: a look-up by key, or voiding
# the key (the answer that also stops a late charge).
LOOKUPS = (("GET", "/payments"), ("POST", "/payment-voids"))


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with running_shop(tmp_path) as shop:
        await shop.add_product("SKU-1", price_cents=250, stock=10)
        yield shop


async def test_a_charge_that_reaches_payments_after_the_saga_gave_up_is_never_kept(
    shop: Shop,
) -> None:
    user_id = await shop.add_user()
    payments = shop.edges["payments"]
    payments.hold("POST", "/payments")  # every charge attempt queues in a stalled payments

    response = await shop.place("k-late", {**ORDER, "user_id": user_id})

    assert response.status_code == 503, response.text
    order = await shop.wait_for_order(response.json()["order"]["id"], "cancelled")
    payments.heal()
    late = await payments.deliver_held()  # payments gets going again and serves its queue
    assert late, "the charge attempts were held back"
    captured = [p for p in await shop.payments_of(order["id"]) if p["status"] == "captured"]
    assert captured == [], "a cancelled order kept a charge that committed after the saga ended"
    assert [answer.status_code for answer in late] == [409] * len(late)
    assert {answer.json()["error"] for answer in late} == {"idempotency_key_voided"}
    assert (await shop.stock("SKU-1"))["stock"] == 10


async def test_a_reservation_that_reaches_inventory_after_the_saga_gave_up_holds_no_stock(
    shop: Shop,
) -> None:
    """The same race one step earlier: a reserve request stuck in a stalled inventory."""
    user_id = await shop.add_user()
    inventory = shop.edges["inventory"]
    inventory.hold("POST", "/reservations")

    response = await shop.place("k-late-reserve", {**ORDER, "user_id": user_id})

    assert response.status_code == 503, response.text
    order = await shop.wait_for_order(response.json()["order"]["id"], "cancelled")
    inventory.heal()
    late = await inventory.deliver_held()
    assert late, "the reserve attempts were held back"
    held = [r for r in await shop.reservations_of(order["id"]) if r["status"] == "held"]
    assert held == [], "a cancelled order kept stock held by a reservation that came late"
    assert (await shop.stock("SKU-1"))["stock"] == 10
    assert {answer.json()["error"] for answer in late} == {"idempotency_key_voided"}


async def test_a_declined_card_whose_answer_was_lost_cancels_the_order_as_declined(
    shop: Shop,
) -> None:
    user_id = await shop.add_user()
    payments = shop.edges["payments"]
    payments.lose_answer("POST", "/payments")  # declined, recorded, and the answer lost
    for method, path in LOOKUPS:
        payments.refuse(method, path)  # ...and payments unreachable while the saga asks

    response = await shop.place(
        "k-declined", {**ORDER, "user_id": user_id, "card_token": "tok_declined"}
    )

    assert response.status_code == 503, response.text
    payments.heal()
    order = await shop.wait_for_order(response.json()["order"]["id"], "cancelled")
    assert order["reason"] == "card_declined"
    [payment] = await shop.payments_of(order["id"])
    assert payment["status"] == "declined"


async def test_a_replay_of_an_order_whose_compensation_is_unfinished_is_not_a_success(
    shop: Shop,
) -> None:
    user_id = await shop.add_user()
    shop.edges["payments"].refuse("POST", "/payments")
    shop.edges["inventory"].refuse("POST", r"/reservations/\d+/cancel")
    body = {**ORDER, "user_id": user_id}

    first = await shop.place("k-unfinished", body)
    again = await shop.place("k-unfinished", body)

    assert first.status_code == 503, first.text
    assert first.json()["order"]["status"] == "pending"
    assert again.status_code == 503, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.json()["error"], again.json()["order"]["id"]) == (
        first.json()["error"],
        first.json()["order"]["id"],
    )


async def test_a_replay_after_the_compensation_finished_answers_the_failure(shop: Shop) -> None:
    user_id = await shop.add_user()
    shop.edges["payments"].refuse("POST", "/payments")
    shop.edges["inventory"].refuse("POST", r"/reservations/\d+/cancel")
    body = {**ORDER, "user_id": user_id}
    first = await shop.place("k-finished", body)
    shop.edges["payments"].heal()
    shop.edges["inventory"].heal()
    await shop.wait_for_order(first.json()["order"]["id"], "cancelled")

    again = await shop.place("k-finished", body)

    assert again.status_code == 503, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["error"] == "dependency_unavailable"
    assert again.json()["order"]["status"] == "cancelled"


async def test_a_declined_order_replays_as_declined(shop: Shop) -> None:
    user_id = await shop.add_user()
    body = {**ORDER, "user_id": user_id, "card_token": "tok_declined"}
    first = await shop.place("k-402", body)
    again = await shop.place("k-402", body)
    assert (first.status_code, again.status_code) == (402, 402)
    assert again.json()["order"] == first.json()["order"]
    assert again.json()["error"] == "card_declined"


async def test_a_failed_order_is_not_retried_by_the_gateway_and_its_replay_reports_it(
    shop: Shop,
) -> None:
    """Orders' 503 comes after its own retries (`X-Do-Not-Retry`): the gateway passes it on
    at once instead of multiplying them; the client's own retry with the same key gets the
    failure again, never a 200."""
    user_id = await shop.add_user()
    shop.edges["payments"].refuse("POST", "/payments")
    shop.edges["inventory"].refuse("POST", r"/reservations/\d+/cancel")
    headers = {"Idempotency-Key": "k-gateway", "Authorization": "Bearer demo-token"}

    first = await shop.gateway.post(
        "/api/orders", json={**ORDER, "user_id": user_id}, headers=headers
    )
    posts = [r for r in shop.gateway_edges["orders"].requests if r[0] == "POST"]
    again = await shop.gateway.post(
        "/api/orders", json={**ORDER, "user_id": user_id}, headers=headers
    )

    assert (first.status_code, again.status_code) == (503, 503), again.text
    assert len(posts) == 1
    assert again.json()["error"] == "dependency_unavailable"
