"""The inventory service's Pact provider states (SHOP_TEST_MODE only, see
shop.common.provider_states).

Setups upsert, so a state can be set up again without a teardown in between. Stock stays
consistent with the reservations a state creates (the README's stock invariant).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from shop.common.db import delete_all_rows, session_scope, utc_now
from shop.common.provider_states import ProviderStates
from shop.common.validation import JsonId, JsonNonNegativeInt, JsonPositiveInt
from shop.inventory.models import (
    Base,
    ProductRow,
    ReservationItemRow,
    ReservationRow,
    ReserveKeyRow,
)
from shop.inventory.schemas import ReservationCreate, ReservationItem, Sku


class ProductExists(BaseModel):
    sku: Sku
    name: str = "Widget"
    price_cents: JsonNonNegativeInt = 1250
    stock: JsonNonNegativeInt = 10


class ProductAbsent(BaseModel):
    sku: Sku


class ReservationAbsent(BaseModel):
    """Nothing reserved (nor voided) under this key."""

    idempotency_key: str


class ReservationExists(BaseModel):
    reservation_id: JsonId
    order_id: JsonId
    sku: Sku = "SKU-1"
    quantity: JsonPositiveInt = 2
    status: Literal["held", "confirmed", "cancelled"] = "held"
    # Stock of the product before the reservation took its units.
    stock: JsonNonNegativeInt = Field(default=10)
    # The key it was reserved with (default: one of its own).
    idempotency_key: str | None = None

    @model_validator(mode="after")
    def _fits_in_stock(self) -> ReservationExists:
        if self.quantity > self.stock:
            raise ValueError(f"quantity {self.quantity} is more than the stock {self.stock}")
        return self


def provider_states(engine: Engine) -> ProviderStates:
    states = ProviderStates(teardown=lambda: delete_all_rows(engine, Base.metadata))

    @states.state("a product exists", params=ProductExists)
    def product_exists(params: ProductExists) -> None:
        with session_scope(engine, write=True) as session:
            _put_product(session, params)

    @states.state("no such product", params=ProductAbsent)
    def no_such_product(params: ProductAbsent) -> None:
        with session_scope(engine, write=True) as session:
            session.execute(delete(ProductRow).where(ProductRow.sku == params.sku))

    @states.state("a reservation exists", params=ReservationExists)
    def reservation_exists(params: ReservationExists) -> None:
        with session_scope(engine, write=True) as session:
            _put_reservation(session, params)

    @states.state("no reservation under a key", params=ReservationAbsent)
    def no_reservation_under_a_key(params: ReservationAbsent) -> None:
        with session_scope(engine, write=True) as session:
            _forget_key(session, params.idempotency_key)

    return states


def _put_product(session: Session, params: ProductExists) -> ProductRow:
    row = ProductRow(
        sku=params.sku,
        name=params.name,
        price_cents=params.price_cents,
        stock=params.stock,
        reserved=0,
    )
    return session.merge(row)


def _forget_key(session: Session, key: str) -> None:
    """No reservation and no void under `key` (a reservation's stock is not given back: the
    states that need stock set it themselves)."""
    ids = list(
        session.scalars(select(ReservationRow.id).where(ReservationRow.idempotency_key == key))
    )
    _delete_reservations(session, ids)
    session.execute(delete(ReserveKeyRow).where(ReserveKeyRow.idempotency_key == key))


def _delete_reservations(session: Session, ids: list[int]) -> None:
    session.execute(delete(ReservationItemRow).where(ReservationItemRow.reservation_id.in_(ids)))
    session.execute(delete(ReservationRow).where(ReservationRow.id.in_(ids)))


def _put_reservation(session: Session, params: ReservationExists) -> None:
    key = params.idempotency_key or f"provider-state-{params.reservation_id}"
    _forget_key(session, key)
    _delete_reservations(session, [params.reservation_id])
    product = _put_product(session, ProductExists(sku=params.sku, stock=params.stock))
    if params.status != "cancelled":
        product.stock -= params.quantity
    if params.status == "held":
        product.reserved += params.quantity
    request = ReservationCreate(
        order_id=params.order_id,
        items=[ReservationItem(sku=params.sku, quantity=params.quantity)],
    )
    now = utc_now()
    session.add(
        ReservationRow(
            id=params.reservation_id,
            order_id=params.order_id,
            status=params.status,
            idempotency_key=key,
            request_digest=request.digest(),
            created_at=now,
            updated_at=now,
            items=[ReservationItemRow(sku=params.sku, quantity=params.quantity)],
        )
    )
