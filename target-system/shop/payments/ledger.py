"""Charge, refund and look up payments: the service's rules, free of HTTP.

A charge is decided by its card token (`tok_declined` is declined, anything else captured) and
recorded together with the answer it got, so a retry under the same `Idempotency-Key` gets
exactly the same answer and never a second charge.

A caller that lost a charge's answer settles it with `void_key`: the charge made under the
key, or, when there is none, the key voided, so that a charge request still on its way is
refused when it arrives. A look-up alone could not say "no charge": the request may sit in a
stalled server's queue and commit after the caller concluded there was none. A charge and a
void both claim the key in `charge_keys` (a charge with its payment, in one transaction):
whichever commits first wins, the other sees it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.common.db import utc_now
from shop.common.errors import Conflict, NotFound
from shop.payments.models import ChargeKey, Payment, PaymentStatus
from shop.payments.schemas import DECLINED_CARD_TOKEN, MAX_ID, ChargeRequest, PaymentQuery


@dataclass(frozen=True, slots=True)
class ChargeAnswer:
    """The answer to a charge request: status code and body, and whether it is a replay."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True, slots=True)
class VoidAnswer:
    """The charge made under a key, or None when there is none and the key is now void."""

    payment: dict[str, Any] | None

    def to_json(self, idempotency_key: str) -> dict[str, Any]:
        return {
            "idempotency_key": idempotency_key,
            "voided": self.payment is None,
            "payment": self.payment,
        }


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    payment: dict[str, Any]
    # False when the payment had been refunded before (an idempotent repeat).
    newly_refunded: bool


def request_fingerprint(request: ChargeRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def charge(session: Session, *, idempotency_key: str, request: ChargeRequest) -> ChargeAnswer:
    """Capture or decline a payment once per key; replay the stored answer afterwards.

    Raises `Conflict` when the key was used before with another body, or was voided.
    """
    fingerprint = request_fingerprint(request)
    existing = find_by_key(session, idempotency_key)
    if existing is not None:
        return _replay(existing, fingerprint)
    claim = session.get(ChargeKey, idempotency_key)
    if claim is not None and claim.voided:
        raise _voided()
    declined = request.card_token == DECLINED_CARD_TOKEN
    now = utc_now()
    payment = Payment(
        order_id=request.order_id,
        amount_cents=request.amount_cents,
        currency=request.currency,
        status=PaymentStatus.DECLINED if declined else PaymentStatus.CAPTURED,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        response_status=0,
        response_body={},
        created_at=now,
        updated_at=now,
    )
    if claim is None:  # (a claim without its payment is a test reset's leftover: reused)
        session.add(ChargeKey(idempotency_key=idempotency_key, voided=False, claimed_at=now))
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent charge or void of the same key claimed it first: answer as it decided.
        session.rollback()
        winner = find_by_key(session, idempotency_key)
        if winner is not None:
            return _replay(winner, fingerprint)
        if _is_void(session, idempotency_key):
            raise _voided() from None
        raise

    payment.response_status, payment.response_body = _first_answer(payment, declined=declined)
    return ChargeAnswer(payment.response_status, payment.response_body, replayed=False)


def _voided() -> Conflict:
    return Conflict(
        "this Idempotency-Key was voided by its caller: no charge can be made with it",
        error="idempotency_key_voided",
    )


def _is_void(session: Session, idempotency_key: str) -> bool:
    claim = session.get(ChargeKey, idempotency_key)
    return claim is not None and claim.voided


def _first_answer(payment: Payment, *, declined: bool) -> tuple[int, dict[str, Any]]:
    if declined:
        return 402, {
            "error": "card_declined",
            "detail": "the card was declined",
            "payment": payment.to_json(),
        }
    return 201, payment.to_json()


def _replay(payment: Payment, fingerprint: str) -> ChargeAnswer:
    if payment.request_fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with another request body",
            error="idempotency_key_reused",
        )
    return ChargeAnswer(payment.response_status, dict(payment.response_body), replayed=True)


def void_key(session: Session, *, idempotency_key: str) -> VoidAnswer:
    """The charge under the key if there is one; else void the key (idempotent)."""
    existing = find_by_key(session, idempotency_key)
    if existing is not None:
        return VoidAnswer(existing.to_json())
    claim = session.get(ChargeKey, idempotency_key)
    if claim is not None:
        claim.voided = True  # void already, or a test reset's leftover without its payment
        return VoidAnswer(None)
    session.add(ChargeKey(idempotency_key=idempotency_key, voided=True, claimed_at=utc_now()))
    try:
        session.flush()
    except IntegrityError:
        # A concurrent charge (or void) claimed the key first.
        session.rollback()
        winner = find_by_key(session, idempotency_key)
        if winner is not None:
            return VoidAnswer(winner.to_json())
        if not _is_void(session, idempotency_key):
            raise
    return VoidAnswer(None)


def refund(session: Session, *, payment_id: int) -> RefundAnswer:
    """Refund a captured payment; refunding it again is a no-op. Declined payments: 409."""
    payment = get_payment(session, payment_id=payment_id)
    if payment.status == PaymentStatus.DECLINED:
        raise Conflict("a declined payment cannot be refunded", error="payment_declined")
    # A conditional update, so two concurrent refunds count once.
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.CAPTURED)
        .values(status=PaymentStatus.REFUNDED, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    newly_refunded = getattr(result, "rowcount", 0) == 1
    session.refresh(payment)
    return RefundAnswer(payment.to_json(), newly_refunded=newly_refunded)


def get_payment(session: Session, *, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id) if 1 <= payment_id <= MAX_ID else None
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    return payment


def find_by_key(session: Session, idempotency_key: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()


def list_payments(session: Session, query: PaymentQuery) -> dict[str, Any]:
    conditions = []
    if query.order_id is not None:
        conditions.append(Payment.order_id == query.order_id)
    if query.idempotency_key is not None:
        conditions.append(Payment.idempotency_key == query.idempotency_key)
    total = session.scalar(select(func.count()).select_from(Payment).where(*conditions)) or 0
    rows = session.scalars(
        select(Payment)
        .where(*conditions)
        .order_by(Payment.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    return {"items": [row.to_json() for row in rows], "total": total}
