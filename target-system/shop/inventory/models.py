"""inventory tables: products, reservations and their items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shop.common.db import UtcDateTime, utc_now


class Base(DeclarativeBase):
    pass


class ProductRow(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(BigInteger)  # what can still be reserved
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)  # held, not yet confirmed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ReservationRow(Base):
    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    items: Mapped[list[ReservationItemRow]] = relationship(
        back_populates="reservation",
        order_by="ReservationItemRow.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class ReserveKeyRow(Base):
    """Who took a reserve key first: a reservation (written with it) or a void.

    A void (`POST /reservation-voids`) is for a caller that lost a reserve answer: a reserve
    request still on its way is refused when it arrives instead of holding stock for an order
    already given up. One row per key, so a reservation and a void of the same key exclude
    each other by this primary key on any database.
    """

    __tablename__ = "reserve_keys"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    voided: Mapped[bool] = mapped_column(Boolean)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ReservationItemRow(Base):
    __tablename__ = "reservation_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(BigInteger)
    reservation: Mapped[ReservationRow] = relationship(back_populates="items")
