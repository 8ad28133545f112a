"""schemathesis holds the users service to its OpenAPI document (in-process, ASGI)."""

from __future__ import annotations

import schemathesis
from fuzz_budget import OPERATION_SETTINGS, SEED, shop_schema, stateful_test
from hypothesis import seed
from inprocess_shop import SHOP

SCHEMA = shop_schema(SHOP.asgi("users"))


@SCHEMA.parametrize()
@OPERATION_SETTINGS
@seed(SEED)
def test_users_answers_as_its_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


# Through the document's links: create a user -> get / update / delete it.
TestUsersWorkflows = stateful_test(SCHEMA, reset=SHOP.reset)
