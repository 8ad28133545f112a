"""Orders, sagas (with their step log) and the outbox: the orders service's tables."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shop.common.db import UtcDateTime, utc_now


class Base(DeclarativeBase):
    pass


def isoformat(moment: datetime) -> str:
    return moment.isoformat()


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class SagaState(enum.StrEnum):
    RUNNING = "running"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    # A compensation got an answer no retry can change (e.g. a 422): needs a person.
    FAILED = "failed"


IN_FLIGHT_STATES = (SagaState.RUNNING, SagaState.COMPENSATING)


class Step(enum.StrEnum):
    """Forward steps in order, then compensation steps."""

    VALIDATE_USER = "validate_user"
    RESERVE_STOCK = "reserve_stock"
    CHARGE_PAYMENT = "charge_payment"
    CONFIRM_RESERVATION = "confirm_reservation"
    CONFIRM_ORDER = "confirm_order"
    REFUND_PAYMENT = "refund_payment"
    CANCEL_RESERVATION = "cancel_reservation"
    CANCEL_ORDER = "cancel_order"


class Effect(enum.StrEnum):
    """What the saga knows about a remote side effect (a reservation or a charge).

    `pending` means a request was (maybe) sent and its outcome is not known yet: recovery
    and compensation must find out before trusting `none`.
    """

    NONE = "none"
    PENDING = "pending"
    DONE = "done"  # reservation held / payment captured
    CONFIRMED = "confirmed"  # reservation confirmed
    DECLINED = "declined"  # payment declined: nothing to refund
    UNDONE = "undone"  # reservation released / payment refunded (or found never made)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reservation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "items": self.items,
            "total_cents": self.total_cents,
            "status": self.status,
            "reason": self.reason,
            "payment_id": self.payment_id,
            "reservation_id": self.reservation_id,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }


class Saga(Base):
    """One order's saga: where it is, what it has done remotely, and why it failed."""

    __tablename__ = "sagas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Keys sent to dependencies derive from this id, unique across database resets.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # The last forward step that succeeded.
    step: Mapped[str] = mapped_column(String(32))
    card_token: Mapped[str] = mapped_column(String(200))
    reservation: Mapped[str] = mapped_column(String(16), default=Effect.NONE)
    reservation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    charge: Mapped[str] = mapped_column(String(16), default=Effect.NONE)
    charge_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Why the saga compensates: the answer POST /orders gives (status, code, detail).
    failure_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failure_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_dependency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    compensation_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "state": self.state,
            "step": self.step,
            "reservation": self.reservation,
            "reservation_id": self.reservation_id,
            "charge": self.charge,
            "payment_id": self.payment_id,
            "failure": self.failure_error,
            "failure_detail": self.failure_detail,
            "compensation_attempts": self.compensation_attempts,
            "last_error": self.last_error,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }


class SagaStep(Base):
    """The saga log: one row per step attempt and outcome, in order."""

    __tablename__ = "saga_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    saga_id: Mapped[int] = mapped_column(ForeignKey("sagas.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "outcome": self.outcome,
            "detail": self.detail,
            "at": isoformat(self.at),
        }


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Refused by notifications with a 4xx: retrying cannot help, kept for inspection.
    REJECTED = "rejected"


class OutboxEvent(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def to_event(self) -> dict[str, Any]:
        """The event as notifications receives it (README "Event")."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "order_id": self.order_id,
            "occurred_at": isoformat(self.occurred_at),
            "payload": self.payload,
        }
