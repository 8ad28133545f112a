"""The payments table. A row is both the payment and the stored answer to its charge request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
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


class VoidedKey(Base):
    """A charge key given up by its caller: no charge can ever be made under it.

    Written by `POST /payment-voids` when no charge exists under the key, so a charge
    request still on its way (queued in a stalled server, retried by a proxy) is refused
    when it arrives instead of capturing money its caller has already stopped waiting for.
    """

    __tablename__ = "voided_keys"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    voided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
