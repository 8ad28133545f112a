"""Request and response models of the orders API (README "orders").

Integers are strict JSON integers (710.0 counts, "710" and true do not), so the OpenAPI
document and the validation agree; every bound keeps values inside a database column.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shop.common.validation import MAX_DB_INT

MAX_ITEMS = 20
MAX_QUANTITY = 10_000
# What payments accepts as `amount_cents`.
MAX_TOTAL_CENTS = 10**12
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
SKU_PATTERN = r"^SKU-\d{1,18}$"


def _whole_number_as_int(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer, so it is accepted as 3; 3.5 is not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_whole_number_as_int)]


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    sku: str = Field(pattern=SKU_PATTERN)
    quantity: JsonInt = Field(ge=1, le=MAX_QUANTITY)


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    user_id: JsonInt = Field(ge=1, le=MAX_DB_INT)
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_ITEMS)
    card_token: str = Field(min_length=1, max_length=100)

    @field_validator("items")
    @classmethod
    def _one_line_per_sku(cls, items: list[OrderItem]) -> list[OrderItem]:
        skus = [item.sku for item in items]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku may appear once")
        return items


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
