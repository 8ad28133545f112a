"""Request models and the limits the OpenAPI document repeats.

Strict: a JSON number where an integer is expected, a bool for an int or an unknown field is
a 422, never silently coerced. Bounds keep every integer inside SQLite's 64-bit range.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shop.common.validation import MAX_DB_INT

MAX_ID = MAX_DB_INT
MAX_AMOUNT_CENTS = 10**12
MAX_CARD_TOKEN = 100
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100
# Keys are echoed back and stored: printable ASCII, no spaces.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
DECLINED_CARD_TOKEN = "tok_declined"


def _whole_number_as_int(value: Any) -> Any:
    # JSON Schema counts 710.0 as an integer, so it is accepted as 710; 710.5 is not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A JSON integer: whole numbers only, never a string or a bool.
JsonInt = Annotated[int, BeforeValidator(_whole_number_as_int)]


class ChargeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    order_id: JsonInt = Field(ge=1, le=MAX_ID)
    amount_cents: JsonInt = Field(ge=1, le=MAX_AMOUNT_CENTS)
    currency: Literal["EUR", "USD"]
    card_token: str = Field(min_length=1, max_length=MAX_CARD_TOKEN)


class IdempotencyKey(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    value: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)


class PaymentQuery(BaseModel):
    """`GET /payments` filters; query strings are parsed leniently ("12" is 12)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_ID)
