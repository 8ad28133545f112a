"""schemathesis holds the notifications service to its OpenAPI document (in-process, ASGI)."""

from __future__ import annotations

import schemathesis
from fuzz_budget import OPERATION_SETTINGS, SEED, shop_schema
from hypothesis import seed
from inprocess_shop import SHOP

SCHEMA = shop_schema(SHOP.asgi("notifications"))


@SCHEMA.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_notifications_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()
