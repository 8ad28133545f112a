"""The payments service's Pact provider states (SHOP_TEST_MODE only, see
shop.common.provider_states), and their Flask route.

Setups upsert, so a state can be set up again without a teardown in between.
"""

from __future__ import annotations

from typing import Literal

from flask import Flask, Response
from pydantic import BaseModel
from sqlalchemy import Engine, delete, or_

from shop.common.db import delete_all_rows, session_scope, utc_now
from shop.common.flask_app import json_body, json_response
from shop.common.provider_states import (
    PROVIDER_STATES_PATH,
    ProviderStates,
    StateChange,
    parse_body,
)
from shop.common.validation import JsonId, JsonPositiveInt
from shop.payments.ledger import request_fingerprint
from shop.payments.models import Base, ChargeKey, Payment
from shop.payments.schemas import DECLINED_CARD_TOKEN, ChargeRequest


class PaymentExists(BaseModel):
    payment_id: JsonId
    order_id: JsonId
    amount_cents: JsonPositiveInt = 2500
    currency: Literal["EUR", "USD"] = "EUR"
    status: Literal["captured", "declined", "refunded"] = "captured"
    idempotency_key: str = "provider-state-charge"


class PaymentAbsent(BaseModel):
    payment_id: JsonId | None = None
    idempotency_key: str | None = None


def provider_states(engine: Engine) -> ProviderStates:
    states = ProviderStates(teardown=lambda: delete_all_rows(engine, Base.metadata))

    @states.state("a payment exists", params=PaymentExists)
    def payment_exists(params: PaymentExists) -> None:
        with session_scope(engine, write=True) as session:
            session.execute(
                delete(Payment).where(
                    or_(
                        Payment.id == params.payment_id,
                        Payment.idempotency_key == params.idempotency_key,
                    )
                )
            )
            session.execute(
                delete(ChargeKey).where(ChargeKey.idempotency_key == params.idempotency_key)
            )
            session.add(_payment(params))

    @states.state("no such payment", params=PaymentAbsent)
    def no_such_payment(params: PaymentAbsent) -> None:
        with session_scope(engine, write=True) as session:
            session.execute(
                delete(Payment).where(
                    or_(
                        Payment.id == params.payment_id,
                        Payment.idempotency_key == params.idempotency_key,
                    )
                )
            )
            if params.idempotency_key is not None:
                session.execute(
                    delete(ChargeKey).where(ChargeKey.idempotency_key == params.idempotency_key)
                )

    return states


def _payment(params: PaymentExists) -> Payment:
    """The row a charge with these values leaves behind (with the answer a replay gives)."""
    declined = params.status == "declined"
    request = ChargeRequest(
        order_id=params.order_id,
        amount_cents=params.amount_cents,
        currency=params.currency,
        card_token=DECLINED_CARD_TOKEN if declined else "tok_visa",
    )
    now = utc_now()
    payment = Payment(
        id=params.payment_id,
        order_id=params.order_id,
        amount_cents=params.amount_cents,
        currency=params.currency,
        status=params.status,
        idempotency_key=params.idempotency_key,
        request_fingerprint=request_fingerprint(request),
        created_at=now,
        updated_at=now,
    )
    charged = {**payment.to_json(), "status": "declined" if declined else "captured"}
    if declined:
        payment.response_status = 402
        payment.response_body = {
            "error": "card_declined",
            "detail": "the card was declined",
            "payment": charged,
        }
    else:
        payment.response_status, payment.response_body = 201, charged
    return payment


def add_provider_state_route(app: Flask, states: ProviderStates) -> None:
    """`POST /_test/provider-states` on the Flask app (the caller checks SHOP_TEST_MODE)."""

    @app.post(PROVIDER_STATES_PATH)
    def change_provider_state() -> Response:
        change = parse_body(StateChange, json_body())
        return json_response(states.apply_sync(change))
