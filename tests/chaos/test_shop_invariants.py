"""The reference shop's invariant checker, against synthetic service states."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import httpx
import pytest

SKU = "SKU-100"


def _order(
    order_id: int, status: str, *, quantity: int = 2, payment_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": order_id,
        "user_id": 1,
        "items": [{"sku": SKU, "quantity": quantity}],
        "status": status,
        "payment_id": payment_id,
    }


def _consistent_state(shop: ModuleType) -> Any:
    """Order 1 confirmed (charged, stock confirmed, notified), order 2 cancelled (refunded)."""
    return shop.ShopState(
        orders=[_order(1, "confirmed", payment_id=10), _order(2, "cancelled", quantity=3)],
        sagas=[
            {"id": 1, "order_id": 1, "state": "completed", "step": "confirm_order"},
            {"id": 2, "order_id": 2, "state": "compensated", "step": "cancel_order"},
        ],
        payments=[
            {"id": 10, "order_id": 1, "status": "captured"},
            {"id": 11, "order_id": 2, "status": "refunded"},
        ],
        reservations=[
            {"id": 5, "order_id": 1, "status": "confirmed", "items": [{"sku": SKU, "quantity": 2}]},
            {"id": 6, "order_id": 2, "status": "cancelled", "items": [{"sku": SKU, "quantity": 3}]},
        ],
        products=[{"sku": SKU, "stock": 98, "reserved": 0}],
        notifications=[{"id": 1, "event_id": "e1", "order_id": 1, "type": "order.confirmed"}],
    )


def _rules(report: Any) -> list[tuple[str, int | None]]:
    return [(v.rule, v.order_id) for v in report.violations]


def test_a_consistent_shop_has_no_violation(shop_invariants: ModuleType) -> None:
    report = shop_invariants.evaluate_shop_state(
        _consistent_state(shop_invariants), initial_stock={SKU: 100}
    )
    assert report.ok, report.summary()
    assert report.checked["orders"] == 2
    assert report.checked["products"] == 1


def test_a_second_capture_for_a_confirmed_order_is_reported_with_its_order(
    shop_invariants: ModuleType,
) -> None:
    state = _consistent_state(shop_invariants)
    state.payments.append({"id": 12, "order_id": 1, "status": "captured"})
    report = shop_invariants.evaluate_shop_state(state)
    assert _rules(report) == [("confirmed_order_charged_once", 1)]
    assert "captured: 2" in report.violations[0].detail


def test_a_refunded_duplicate_still_breaks_exactly_one_capture(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.payments.append({"id": 12, "order_id": 1, "status": "refunded"})
    assert _rules(shop_invariants.evaluate_shop_state(state)) == [
        ("confirmed_order_charged_once", 1)
    ]


def test_a_cancelled_order_still_charged_is_a_net_charge(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.payments[1]["status"] = "captured"
    assert _rules(shop_invariants.evaluate_shop_state(state)) == [
        ("cancelled_order_no_net_charge", 2)
    ]


def test_a_cancelled_order_holding_stock_leaks_it(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.reservations[1]["status"] = "held"
    state.products[0]["stock"] = 95
    report = shop_invariants.evaluate_shop_state(state, initial_stock={SKU: 100})
    assert _rules(report) == [("cancelled_order_no_held_stock", 2)]


def test_sagas_and_orders_left_in_flight_are_reported(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.orders.append(_order(3, "pending"))
    state.sagas.append(
        {
            "id": 3,
            "order_id": 3,
            "state": "compensating",
            "step": "refund_payment",
            "last_error": "timeout",
        }
    )
    state.sagas.append({"id": 4, "order_id": 4, "state": "failed", "step": "cancel_reservation"})
    report = shop_invariants.evaluate_shop_state(state)
    assert _rules(report) == [("order_settled", 3), ("saga_terminal", 3), ("saga_terminal", 4)]
    assert "last error: timeout" in report.violations[1].detail


def test_stock_must_add_up_to_the_initial_stock(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.products[0]["stock"] = 97  # one unit vanished
    report = shop_invariants.evaluate_shop_state(state, initial_stock={SKU: 100})
    assert _rules(report) == [("stock_conserved", None)]
    assert (
        "stock 97 + held 0 + confirmed 2 = 99, expected the initial 100"
        in report.violations[0].detail
    )


def test_confirmed_stock_must_match_what_confirmed_orders_bought(
    shop_invariants: ModuleType,
) -> None:
    state = _consistent_state(shop_invariants)
    state.orders[0]["items"][0]["quantity"] = 1
    report = shop_invariants.evaluate_shop_state(state, initial_stock={SKU: 100})
    assert [v.detail for v in report.only(["stock_conserved"]).violations] == [
        f"{SKU}: 2 confirmed in inventory but confirmed orders bought 1"
    ]


def test_unknown_initial_stock_skips_the_stock_rule(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    state.products[0]["stock"] = 0
    assert shop_invariants.evaluate_shop_state(state).ok


def test_missing_and_duplicate_notifications_are_reported(shop_invariants: ModuleType) -> None:
    missing = _consistent_state(shop_invariants)
    missing.notifications.clear()
    assert _rules(shop_invariants.evaluate_shop_state(missing)) == [
        ("confirmed_order_notified_once", 1)
    ]
    duplicated = _consistent_state(shop_invariants)
    duplicated.notifications.append(
        {"id": 2, "event_id": "e2", "order_id": 1, "type": "order.confirmed"}
    )
    assert _rules(shop_invariants.evaluate_shop_state(duplicated)) == [
        ("confirmed_order_notified_once", 1)
    ]
    wrong = _consistent_state(shop_invariants)
    wrong.notifications.append(
        {"id": 3, "event_id": "e3", "order_id": 2, "type": "order.confirmed"}
    )
    assert _rules(shop_invariants.evaluate_shop_state(wrong)) == [
        ("confirmed_order_notified_once", 2)
    ]


def test_every_violation_is_reported_not_just_the_first(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    for order_id in range(3, 8):
        state.orders.append(_order(order_id, "confirmed"))
    report = shop_invariants.evaluate_shop_state(state)
    charged = [v.order_id for v in report.violations if v.rule == "confirmed_order_charged_once"]
    assert charged == [3, 4, 5, 6, 7]
    assert sorted(report.by_rule()) == [
        "confirmed_order_charged_once",
        "confirmed_order_notified_once",
        "confirmed_order_stock_confirmed",
    ]


# --- reading over HTTP ----------------------------------------------------------------------


def _serve(state: Any, *, notifications_by_order_only: bool = False) -> httpx.MockTransport:
    listings = {
        ("orders", "/orders"): state.orders,
        ("orders", "/sagas"): state.sagas,
        ("payments", "/payments"): state.payments,
        ("inventory", "/reservations"): state.reservations,
        ("inventory", "/products"): state.products,
        ("notifications", "/notifications"): state.notifications,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        service = request.url.host.split(".")[0]
        items = listings.get((service, request.url.path))
        if items is None:
            return httpx.Response(404, json={"error": "not_found"})
        params = request.url.params
        if service == "notifications" and notifications_by_order_only:
            if "order_id" not in params:
                return httpx.Response(422, json={"error": "validation_error"})
            items = [n for n in items if n["order_id"] == int(params["order_id"])]
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        page = items[offset : offset + limit]
        return httpx.Response(200, content=json.dumps({"items": page, "total": len(items)}))

    return httpx.MockTransport(handler)


URLS = {s: f"http://{s}.test" for s in ("orders", "payments", "inventory", "notifications")}


def test_state_is_read_page_by_page(shop_invariants: ModuleType) -> None:
    state = _consistent_state(shop_invariants)
    with httpx.Client(transport=_serve(state)) as client:
        report = shop_invariants.check_shop_invariants(
            URLS, initial_stock={SKU: 100}, client=client, page_size=1
        )
    assert report.ok, report.summary()
    counts = {"orders": 2, "sagas": 2, "payments": 2, "reservations": 2, "notifications": 1}
    assert report.checked == {**counts, "products": 1}


def test_notifications_are_read_per_order_when_the_service_needs_an_order_id(
    shop_invariants: ModuleType,
) -> None:
    state = _consistent_state(shop_invariants)
    with httpx.Client(transport=_serve(state, notifications_by_order_only=True)) as client:
        report = shop_invariants.check_shop_invariants(URLS, client=client)
    assert report.ok, report.summary()
    assert report.checked["notifications"] == 1


def test_a_service_that_cannot_be_read_makes_the_report_fail(shop_invariants: ModuleType) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("payments"):
            raise httpx.ConnectError("refused", request=request)
        return _serve(_consistent_state(shop_invariants)).handle_request(request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        report = shop_invariants.check_shop_invariants(URLS, client=client)
    assert not report.ok
    assert report.errors[0].startswith("payments: GET http://payments.test/payments: ConnectError")


def test_urls_must_cover_every_service_read(shop_invariants: ModuleType) -> None:
    with pytest.raises(ValueError, match="no URL for notifications"):
        shop_invariants.check_shop_invariants(
            {k: v for k, v in URLS.items() if k != "notifications"}
        )
