"""The payments endpoints (README "payments"); the rules live in `ledger`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from pydantic import ValidationError
from sqlalchemy import Engine

from shop.common import metrics
from shop.common.context import get_request_id
from shop.common.db import session_scope
from shop.common.errors import ApiError
from shop.common.flask_app import (
    json_body,
    json_response,
    validated,
    validation_details,
)
from shop.payments import ledger
from shop.payments.schemas import ChargeRequest, IdempotencyKey, PaymentQuery, VoidRequest

SERVICE = "payments"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def count_payment(outcome: str) -> None:
    metrics.PAYMENTS.labels(service=SERVICE, outcome=outcome).inc()


def build_blueprint(engine: Engine) -> Blueprint:
    api = Blueprint("payments", __name__)

    @api.post("/payments")
    def create_payment() -> Response:
        body = json_body()
        key, charge = _charge_inputs(body)
        with session_scope(engine, write=True) as session:
            answer = ledger.charge(session, idempotency_key=key, request=charge)
        if answer.replayed:
            count_payment("replayed")
        else:
            count_payment("declined" if answer.status_code == 402 else "captured")
        payload = dict(answer.body)
        if answer.status_code >= 400:
            # Error bodies carry the id of the request being answered, replay or not.
            payload["request_id"] = get_request_id()
        headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
        return json_response(payload, answer.status_code, headers=headers)

    @api.get("/payments")
    def list_payments() -> Response:
        query = validated(PaymentQuery, request.args.to_dict(), location="query")
        with session_scope(engine) as session:
            return json_response(ledger.list_payments(session, query))

    @api.post("/payment-voids")
    def void_key() -> Response:
        void = validated(VoidRequest, json_body(), location="body")
        with session_scope(engine, write=True) as session:
            answer = ledger.void_key(session, idempotency_key=void.idempotency_key)
        return json_response(answer.to_json(void.idempotency_key))

    @api.get("/payments/<int:payment_id>")
    def get_payment(payment_id: int) -> Response:
        with session_scope(engine) as session:
            return json_response(ledger.get_payment(session, payment_id=payment_id).to_json())

    @api.post("/payments/<int:payment_id>/refund")
    def refund_payment(payment_id: int) -> Response:
        key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is not None and (errors := _key_errors(key)):
            raise ApiError(422, "validation_error", errors)
        with session_scope(engine, write=True) as session:
            answer = ledger.refund(session, payment_id=payment_id)
        if answer.newly_refunded:
            count_payment("refunded")
        return json_response(answer.payment)

    return api


def _charge_inputs(body: Any) -> tuple[str, ChargeRequest]:
    """The key header and the body, validated together so one 422 lists every problem."""
    errors: list[dict[str, Any]] = []
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        errors.append(
            {"loc": ["header", IDEMPOTENCY_KEY_HEADER], "msg": "Field required", "type": "missing"}
        )
    else:
        errors.extend(_key_errors(key))
    charge: ChargeRequest | None = None
    try:
        charge = ChargeRequest.model_validate(body)
    except ValidationError as exc:
        errors.extend(validation_details(exc, "body"))
    if errors or key is None or charge is None:
        raise ApiError(422, "validation_error", errors)
    return key, charge


def _key_errors(key: str) -> list[dict[str, Any]]:
    try:
        IdempotencyKey(value=key)
    except ValidationError as exc:
        return [
            {**item, "loc": ["header", IDEMPOTENCY_KEY_HEADER]}
            for item in validation_details(exc, None)
        ]
    return []
