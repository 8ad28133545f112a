"""The notifications service's Pact provider states (SHOP_TEST_MODE only, see
shop.common.provider_states)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import Engine, delete

from shop.common.db import delete_all_rows, session_scope, utc_now
from shop.common.provider_states import ProviderStates
from shop.common.validation import JsonId
from shop.notifications.models import Base, NotificationRow
from shop.notifications.schemas import EventType


class EventReceived(BaseModel):
    event_id: uuid.UUID
    order_id: JsonId = 1
    type: EventType = "order.confirmed"


def provider_states(engine: Engine) -> ProviderStates:
    states = ProviderStates(teardown=lambda: delete_all_rows(engine, Base.metadata))

    @states.state("an event was received", params=EventReceived)
    def event_received(params: EventReceived) -> None:
        event_id = str(params.event_id)
        with session_scope(engine, write=True) as session:
            session.execute(delete(NotificationRow).where(NotificationRow.event_id == event_id))
            session.add(
                NotificationRow(
                    event_id=event_id,
                    order_id=params.order_id,
                    type=params.type,
                    occurred_at=utc_now(),
                    payload={},
                )
            )

    return states
