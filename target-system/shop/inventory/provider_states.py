"""The inventory service's Pact provider states (SHOP_TEST_MODE only, see
shop.common.provider_states).

Setups upsert, so a state can be set up again without a teardown in between. Stock stays
consistent with the reservations a state creates (the README's stock invariant).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from shop.common.db import delete_all_rows, session_scope, utc_now
from shop.common.provider_states import ProviderStates
from shop.common.validation import JsonId, JsonNonNegativeInt, JsonPositiveInt
from shop.inventory.models import Base, ProductRow, ReservationItemRow, ReservationRow
from shop.inventory.schemas import ReservationCreate, ReservationItem, Sku


class ProductExists(BaseModel):
    sku: Sku
    name: str = "Widget"
    price_cents: JsonNonNegativeInt = 1250
    stock: JsonNonNegativeInt = 10


class ProductAbsent(BaseModel):
    sku: Sku


class ReservationExists(BaseModel):
    reservation_id: JsonId
    order_id: JsonId
    sku: Sku = "SKU-1"
    quantity: JsonPositiveInt = 2
    status: Literal["held", "confirmed", "cancelled"] = "held"
    # Stock of the product before the reservation took its units.
    stock: JsonNonNegativeInt = Field(default=10)

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


def _put_reservation(session: Session, params: ReservationExists) -> None:
    session.execute(
        delete(ReservationItemRow).where(ReservationItemRow.reservation_id == params.reservation_id)
    )
    session.execute(delete(ReservationRow).where(ReservationRow.id == params.reservation_id))
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
            idempotency_key=f"provider-state-{params.reservation_id}",
            request_digest=request.digest(),
            created_at=now,
            updated_at=now,
            items=[ReservationItemRow(sku=params.sku, quantity=params.quantity)],
        )
    )
