"""schemathesis holds the orders service to its OpenAPI document (in-process, ASGI), its
saga reaching the real users, inventory, payments and notifications apps."""

from __future__ import annotations

from typing import Any

import schemathesis
from fuzz_budget import OPERATION_SETTINGS, SEED, shop_schema, stateful_test
from hypothesis import seed
from inprocess_shop import SHOP

SCHEMA = shop_schema(SHOP.asgi("orders"))


@SCHEMA.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_orders_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


# Place an order (placed, or failed and cancelled) -> get it.
ORDERS_SEEN: list[int] = []


class PlacedOrders(SCHEMA.as_state_machine()):  # type: ignore[misc]
    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        if case.operation.label == "GET /orders/{order_id}" and response.status_code == 200:
            order = response.json()
            assert order["status"] in ("confirmed", "cancelled"), order  # the saga has ended
            if order["status"] == "confirmed":
                assert order["payment_id"] is not None, order
                assert order["reservation_id"] is not None, order
            ORDERS_SEEN.append(order["id"])


class TestOrdersWorkflows(stateful_test(SCHEMA, reset=SHOP.reset, machine=PlacedOrders)):  # type: ignore[misc]
    def runTest(self) -> None:
        ORDERS_SEEN.clear()
        super().runTest()
        assert ORDERS_SEEN, "no generated sequence placed an order and then read it"
