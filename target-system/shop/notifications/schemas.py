"""notifications models: the order event (the outbox's message contract) and notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from shop.common.validation import JsonId, JsonNonNegativeInt, JsonPositiveInt

EventType = Literal["order.confirmed", "order.cancelled"]


def _text_only(value: object) -> object:
    # pydantic would read a number as a Unix time; the document says an ISO 8601 string.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class EventItem(BaseModel):
    model_config = ConfigDict(extra="allow")  # a tolerant reader: the producer may add fields

    sku: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    quantity: JsonPositiveInt


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    user_id: JsonId
    total_cents: JsonNonNegativeInt
    items: list[EventItem] = Field(max_length=100)
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None


class Event(BaseModel):
    event_id: uuid.UUID
    type: EventType
    order_id: JsonId
    occurred_at: IsoDateTime
    payload: EventPayload


class EventAck(BaseModel):
    status: Literal["accepted", "duplicate"]


class Notification(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    order_id: int
    type: EventType
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[Notification]
    total: int
