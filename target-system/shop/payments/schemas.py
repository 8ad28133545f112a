"""Request models and the limits the OpenAPI document repeats.

JSON integers follow JSON Schema (`5` and `5.0` yes, `"5"` and `true` no, see
`shop.common.validation`); an unknown field is a 422. Bounds keep every integer storable.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shop.common.validation import MAX_DB_INT, JsonId, JsonPositiveInt

MAX_ID = MAX_DB_INT
MAX_AMOUNT_CENTS = MAX_DB_INT
MAX_CARD_TOKEN = 100
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100
# Keys are echoed back and stored: printable ASCII, no spaces.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
DECLINED_CARD_TOKEN = "tok_declined"


class ChargeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: JsonId
    amount_cents: JsonPositiveInt
    currency: Literal["EUR", "USD"]
    card_token: str = Field(min_length=1, max_length=MAX_CARD_TOKEN)


class IdempotencyKey(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    value: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)


class VoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)


class PaymentQuery(BaseModel):
    """`GET /payments` filters; query strings are parsed leniently ("12" is 12)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_ID)
