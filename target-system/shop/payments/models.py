"""The payments table. A row is both the payment and the stored answer to its charge request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shop.common.db import UtcDateTime, utc_now


class Base(DeclarativeBase):
    pass


class PaymentStatus(enum.StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"


def isoformat(moment: datetime) -> str:
    return moment.isoformat()


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What the charge request looked like and what it was answered, for replays.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }


class ChargeKey(Base):
    """Who took a charge key first: a charge (written with its payment) or a void.

    A void (`POST /payment-voids`) is for a caller that lost a charge's answer: the key is
    claimed as void, so a charge request still on its way is refused when it arrives rather
    than capture money its caller stopped waiting for. One row per key, so a charge and a
    void of the same key exclude each other by this primary key on any database.
    """

    __tablename__ = "charge_keys"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    voided: Mapped[bool] = mapped_column(Boolean)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
