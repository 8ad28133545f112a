"""Request and response models of the orders API (README "orders").

Integers are JSON integers as JSON Schema has them (`shop.common.validation`), so the OpenAPI
document and the validation agree; every bound keeps values inside a database column.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shop.common.validation import MAX_DB_INT, JsonId, JsonPositiveInt

MAX_ITEMS = 20
# What payments accepts as `amount_cents`.
MAX_TOTAL_CENTS = MAX_DB_INT
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
# As inventory has it ([0-9], not \d: pydantic's \d takes any Unicode digit).
SKU_PATTERN = r"^SKU-[0-9]{1,32}$"


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=SKU_PATTERN)
    quantity: JsonPositiveInt


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: JsonId
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_ITEMS)
    card_token: str = Field(min_length=1, max_length=100)

    @field_validator("items")
    @classmethod
    def _one_line_per_sku(cls, items: list[OrderItem]) -> list[OrderItem]:
        """Repeated lines of one sku add up (as inventory does), first-seen order kept."""
        quantities: dict[str, int] = {}
        for item in items:
            quantities[item.sku] = quantities.get(item.sku, 0) + item.quantity
        if any(quantity > MAX_DB_INT for quantity in quantities.values()):
            raise ValueError(f"a sku's total quantity must be at most {MAX_DB_INT}")
        return [OrderItem(sku=sku, quantity=quantity) for sku, quantity in quantities.items()]


class OrderOut(BaseModel):
    id: int
    user_id: int
    items: list[OrderItem]
    total_cents: int
    status: Literal["pending", "confirmed", "cancelled"]
    reason: str | None
    payment_id: int | None
    reservation_id: int | None
    created_at: str
    updated_at: str


class OrderList(BaseModel):
    items: list[OrderOut]
    total: int


class OrderError(BaseModel):
    """An error answer; a saga that failed adds the (cancelled, or pending) order."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str | list[Any] | None = None
    request_id: str | None = None
    dependency: str | None = None
    order: OrderOut | None = None


SagaStateName = Literal["running", "compensating", "completed", "compensated", "failed"]


class SagaOut(BaseModel):
    id: int
    order_id: int
    state: SagaStateName
    step: str
    reservation: str
    reservation_id: int | None
    charge: str
    payment_id: int | None
    failure: str | None
    failure_detail: str | None
    compensation_attempts: int
    last_error: str | None
    created_at: str
    updated_at: str


class SagaList(BaseModel):
    items: list[SagaOut]
    total: int


class SagaStepOut(BaseModel):
    step: str
    outcome: str
    detail: str | None
    at: str


class SagaDetail(SagaOut):
    steps: list[SagaStepOut]
