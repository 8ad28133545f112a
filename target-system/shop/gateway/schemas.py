"""The gateway's own models of what it takes from clients and reads from its services.

A consumer keeps its own view of its providers' APIs, written from their documented
contract (README), never imported from their code: shared models would change with the
provider and hide exactly the drift the consumer pacts exist to catch. The request models
are the gateway's public API (it refuses a bad body before forwarding it); the answers of
users, inventory, orders and payments are read as far as the gateway needs them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

from shop.common.validation import NOT_BLANK, NOT_BLANK_DOC, JsonId, JsonPositiveInt

IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
SKU_PATTERN = r"^SKU-[0-9]{1,32}$"
MAX_ORDER_ITEMS = 20
MAX_CARD_TOKEN = 100
OrderStatus = Literal["pending", "confirmed", "cancelled"]


class _Answer(BaseModel):
    """A service's answer as the gateway reads it: fields it does not know are ignored."""

    model_config = ConfigDict(extra="ignore")


# -- users -------------------------------------------------------------------------------------


def _normalise_email(value: str) -> str:
    try:
        return validate_email(
            value, check_deliverability=False, globally_deliverable=False, test_environment=True
        ).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
UserName = Annotated[str, StringConstraints(min_length=1, max_length=100), NOT_BLANK, NOT_BLANK_DOC]


class UserCreate(BaseModel):
    name: UserName
    email: Email


class User(_Answer):
    id: int
    name: str
    email: str
    created_at: datetime


# -- inventory ---------------------------------------------------------------------------------


class Product(_Answer):
    sku: str
    name: str
    price_cents: int
    stock: int
    reserved: int


class ProductPage(_Answer):
    items: list[Product]
    total: int


# -- orders ------------------------------------------------------------------------------------


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=SKU_PATTERN)
    quantity: JsonPositiveInt


class OrderRequest(BaseModel):
    # Checked here, forwarded as it came: orders adds up repeated lines of a sku itself.
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: JsonId
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_ORDER_ITEMS)
    card_token: str = Field(min_length=1, max_length=MAX_CARD_TOKEN)


class OrderOut(_Answer):
    id: int
    user_id: int
    items: list[OrderItem]
    total_cents: int
    status: OrderStatus
    reason: str | None
    payment_id: int | None
    reservation_id: int | None
    created_at: str
    updated_at: str


class OrderError(BaseModel):
    """An error answer; a saga that failed adds the (cancelled, or pending) order."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str | list[Any] | None = None
    request_id: str | None = None
    dependency: str | None = None
    order: OrderOut | None = None


class OrderRef(_Answer):
    """What the order view needs from an order to fetch its parts."""

    id: int
    user_id: int
    payment_id: int | None = None

    @classmethod
    def parse(cls, body: Any) -> OrderRef | None:
        """The order's references, or None when the body is not an order."""
        try:
            return cls.model_validate(body)
        except ValidationError:
            return None
