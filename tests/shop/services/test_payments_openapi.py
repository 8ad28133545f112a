"""schemathesis holds the payments service to its hand-written OpenAPI document (in-process)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from shop.payments.factory import create_app
from shop.payments.settings import PaymentsSettings

APP = create_app(settings=PaymentsSettings(database_url="sqlite://"))
SCHEMA = schemathesis.openapi.from_wsgi("/openapi.json", APP)
SCHEMA.config.generation.update(max_examples=40)
# A declined card (402) is an answer to valid data too: `tok_declined`, or a replayed key.
SCHEMA.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "402", "404", "409"]
)


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20261121)
def test_payments_answers_as_its_openapi_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate()


StatefulPayments = SCHEMA.as_state_machine()
TestPaymentsWorkflows = StatefulPayments.TestCase
TestPaymentsWorkflows.settings = settings(
    max_examples=40,
    stateful_step_count=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
