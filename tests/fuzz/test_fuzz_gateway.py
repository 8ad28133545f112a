"""schemathesis holds the gateway to its OpenAPI document (in-process, ASGI), with a valid
token, every route reaching the real services behind it; without a token, every `/api`
call is refused; and through its links, a new user's order shows its payment."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fuzz_budget import OPERATION_SETTINGS, SEED, shop_schema, stateful_test
from hypothesis import seed
from inprocess_shop import SHOP

pytestmark = pytest.mark.slow

SCHEMA = shop_schema(SHOP.asgi("gateway"))  # the shop's settings give it the demo token


@SCHEMA.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_gateway_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


ANONYMOUS = shop_schema(SHOP.asgi("gateway"), authenticated=False).include(path_regex="^/api/")


@ANONYMOUS.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_gateway_refuses_every_api_call_without_a_token(case: schemathesis.Case) -> None:
    response = case.call()
    # FastAPI decodes a JSON body before it resolves dependencies: malformed JSON is a 400;
    # a method the path does not serve is a 405 whoever asks.
    assert response.status_code in (400, 401, 405), response.text
    if response.status_code == 401:
        challenge = response.headers.get("www-authenticate", [""])[0]
        assert challenge.startswith("Bearer"), response.headers
        assert response.json()["error"] == "unauthorized"


# Create a user -> get them; -> place an order for them -> get its view -> its payment.
ORDER_FLOW = SCHEMA.include(
    operation_id=["create_user", "get_user", "place_order", "get_order_view"]
)
VIEWS_WITH_A_PAYMENT: list[int] = []


class OrderViews(ORDER_FLOW.as_state_machine()):  # type: ignore[misc]
    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        if case.operation.label != "GET /api/orders/{order_id}" or response.status_code != 200:
            return
        view = response.json()
        order, payment = view["order"], view["payment"]
        assert view["degraded"] == [], view
        if order["payment_id"] is not None:
            assert payment is not None, view
            assert payment["id"] == order["payment_id"], view
            assert payment["order_id"] == order["id"], view
            VIEWS_WITH_A_PAYMENT.append(order["id"])
        if order["status"] == "confirmed":
            assert payment["status"] == "captured", view


# A view with a payment takes four linked calls in a row: twice the usual budget, so that one
# sequence gets there whatever else the session imported (see `stateful_test`).
OrderFlow = stateful_test(ORDER_FLOW, reset=SHOP.reset, machine=OrderViews, budget=2)


class TestGatewayOrderFlow(OrderFlow):  # type: ignore[misc, valid-type]
    def runTest(self) -> None:
        VIEWS_WITH_A_PAYMENT.clear()
        super().runTest()
        assert VIEWS_WITH_A_PAYMENT, "no generated sequence reached an order view with a payment"
