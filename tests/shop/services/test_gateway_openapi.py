"""schemathesis holds the gateway to its OpenAPI document (in-process, fake services)."""

from __future__ import annotations

import schemathesis
from fake_dependencies import transports, without_lifespan
from hypothesis import HealthCheck, seed, settings
from schemathesis.config._auth import AuthConfig
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from shop.common.db import make_engine
from shop.gateway.factory import build_app
from shop.gateway.settings import GatewaySettings
from shop_wiring import FAST

APP = build_app(
    settings=GatewaySettings(**FAST, gateway_rate_limit_rps=0),
    engine=make_engine("sqlite://"),
    transports=transports("users", "orders", "inventory", "payments"),
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(APP))
# The token goes through schemathesis' auth config, so its own auth cases stay intact.
SCHEMA.config.auth = AuthConfig(openapi={"HTTPBearer": {"bearer": "demo-token"}})
# 422 is also an answer to valid-looking data: unknown user or product, a repeated sku.
SCHEMA.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "402", "403", "404", "409", "422", "429"]
)


@SCHEMA.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20261121)
def test_gateway_answers_as_its_openapi_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


ANONYMOUS = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(APP))


@ANONYMOUS.include(path_regex="^/api/").parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20261121)
def test_gateway_without_a_token_answers_401_as_documented(case: schemathesis.Case) -> None:
    response = case.call_and_validate()
    # FastAPI decodes a JSON body before it resolves dependencies: malformed JSON is a 400.
    assert response.status_code in (400, 401, 405)
