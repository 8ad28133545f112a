"""schemathesis holds the orders API to its OpenAPI document (in-process, fake dependencies)."""

from __future__ import annotations

import schemathesis
from fake_dependencies import transports, without_lifespan
from hypothesis import HealthCheck, seed, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import allow_header_conformance
from shop.common.db import make_engine
from shop.orders.factory import build_app
from shop.orders.settings import OrdersSettings
from shop.orders.store import SagaStore
from shop_wiring import FAST

# Built at import (schemathesis needs the schema at collection), run without its lifespan:
# the tables are created by hand and no background task starts.
ENGINE = make_engine("sqlite://")
SagaStore(ENGINE).create_tables()
APP = build_app(
    settings=OrdersSettings(**FAST),
    engine=ENGINE,
    transports=transports("users", "inventory", "payments", "notifications"),
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(APP))
# 422 is also an answer to valid-looking data: unknown user or product, a repeated sku.
SCHEMA.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "402", "404", "409", "422", "5xx"]
)


@SCHEMA.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20261121)
def test_orders_answers_as_its_openapi_document_says(case: schemathesis.Case) -> None:
    # allow_header_conformance: Starlette's 405 lists only the methods of the first route
    # matching the path (GET and POST /orders are two routes); see the report.
    case.call_and_validate(excluded_checks=[allow_header_conformance])
