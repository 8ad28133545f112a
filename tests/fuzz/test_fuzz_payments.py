"""schemathesis holds payments (Flask) to its hand-written OpenAPI document (in-process, WSGI)."""

from __future__ import annotations

import schemathesis
from fuzz_budget import OPERATION_SETTINGS, SEED, shop_schema, stateful_test
from hypothesis import seed
from inprocess_shop import SHOP

SCHEMA = shop_schema(SHOP.payments, kind="wsgi")


@SCHEMA.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_payments_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


# Through the document's links: charge -> get the payment / refund it.
TestPaymentsWorkflows = stateful_test(SCHEMA, reset=SHOP.reset)
