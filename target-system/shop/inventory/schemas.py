"""inventory request and response models (README "inventory")."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shop.common.validation import (
    NOT_BLANK,
    NOT_BLANK_DOC,
    JsonId,
    JsonNonNegativeInt,
    JsonPositiveInt,
)

# [0-9], not \d: pydantic's regex engine takes \d to mean any Unicode digit.
Sku = Annotated[str, StringConstraints(pattern=r"^SKU-[0-9]{1,32}$")]
# Not blank: "   " is a 422, and the document says so (schemathesis found " " refused).
ProductName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), NOT_BLANK, NOT_BLANK_DOC
]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ReservationStatus = Literal["held", "confirmed", "cancelled"]

MAX_ITEMS = 100


class ProductCreate(BaseModel):
    sku: Sku
    name: ProductName
    price_cents: JsonNonNegativeInt
    stock: JsonNonNegativeInt


class Product(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    price_cents: int
    stock: int
    reserved: int


class ProductPage(BaseModel):
    items: list[Product]
    total: int


class ReservationItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: Sku
    quantity: JsonPositiveInt


class ReservationCreate(BaseModel):
    order_id: JsonId
    items: list[ReservationItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("items")
    @classmethod
    def _one_line_per_sku(cls, items: list[ReservationItem]) -> list[ReservationItem]:
        """Lines for the same sku add up (the document allows repeats; one line is simpler).

        A sum may exceed the bound of one line (each line is valid, so the request is): it
        is then more than any stock and gets the 409 `insufficient_stock`, not a 422
        (schemathesis found the 422). It is never stored, and stays far below 2**63.
        """
        quantities: dict[str, int] = {}
        for item in items:
            quantities[item.sku] = quantities.get(item.sku, 0) + item.quantity
        return [
            ReservationItem.model_construct(sku=sku, quantity=q) for sku, q in quantities.items()
        ]

    def digest(self) -> str:
        """What "the same body" means for idempotency: same order, same items in any order."""
        canonical = {
            "order_id": self.order_id,
            "items": sorted((item.sku, item.quantity) for item in self.items),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


class Reservation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    status: ReservationStatus
    items: list[ReservationItem]
    created_at: datetime
    updated_at: datetime


class ReservationPage(BaseModel):
    items: list[Reservation]
    total: int


class ReservationVoid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: IdempotencyKey


class ReservationVoidAnswer(BaseModel):
    idempotency_key: str
    # True: no reservation exists under the key, and none ever will.
    voided: bool
    reservation: Reservation | None
