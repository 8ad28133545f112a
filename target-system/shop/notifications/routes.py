"""notifications endpoints: receive an event (deduped by id), list notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from shop.common import metrics
from shop.common.db import session_scope
from shop.common.validation import DbId, NonNegativeDbInt
from shop.notifications.models import NotificationRow
from shop.notifications.schemas import Event, EventAck, EventType, Notification, NotificationPage


def build_router(engine: Engine, *, service: str) -> APIRouter:
    router = APIRouter(tags=["notifications"])
    accepted = metrics.NOTIFICATIONS.labels(service=service, outcome="accepted")
    duplicate = metrics.NOTIFICATIONS.labels(service=service, outcome="duplicate")

    @router.post(
        "/events",
        status_code=202,
        response_model=EventAck,
        responses={200: {"model": EventAck, "description": "An event id seen before"}},
    )
    def receive_event(event: Event) -> JSONResponse:
        """Record the event's notification once; a repeat of its id changes nothing."""
        if _record(engine, event):
            accepted.inc()
            return JSONResponse({"status": "accepted"}, status_code=202)
        duplicate.inc()
        return JSONResponse({"status": "duplicate"}, status_code=200)

    @router.get("/notifications")
    def list_notifications(
        order_id: Annotated[DbId | None, Query()] = None,
        event_type: Annotated[EventType | None, Query(alias="type")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[NonNegativeDbInt, Query()] = 0,
    ) -> NotificationPage:
        query = select(NotificationRow)
        if order_id is not None:
            query = query.where(NotificationRow.order_id == order_id)
        if event_type is not None:
            query = query.where(NotificationRow.type == event_type)
        with session_scope(engine) as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(NotificationRow.id).limit(limit).offset(offset))
            return NotificationPage(
                items=[Notification.model_validate(r) for r in rows], total=total
            )

    return router


def _record(engine: Engine, event: Event) -> bool:
    """True when the event is new. The unique event id settles races between deliveries."""
    event_id = str(event.event_id)
    try:
        with session_scope(engine, write=True) as session:
            seen = session.scalar(
                select(NotificationRow.id).where(NotificationRow.event_id == event_id)
            )
            if seen is not None:
                return False
            session.add(
                NotificationRow(
                    event_id=event_id,
                    order_id=event.order_id,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    payload=event.payload.model_dump(mode="json"),
                )
            )
    except IntegrityError:
        return False
    return True
