"""The notifications app: `shop.notifications.app:app`, built from the environment at import."""

from __future__ import annotations

from fastapi import FastAPI

from shop.common.table_service import create_table_service
from shop.notifications.models import Base
from shop.notifications.provider_states import provider_states
from shop.notifications.routes import build_router
from shop.notifications.settings import NotificationsSettings

SERVICE = "notifications"


def build_app(settings: NotificationsSettings) -> FastAPI:
    return create_table_service(
        service=SERVICE,
        settings=settings,
        metadata=Base.metadata,
        build_router=lambda engine: build_router(engine, service=SERVICE),
        provider_states=provider_states,
        description="Order events from the outbox relay, deduped by event id.",
    )


app = build_app(NotificationsSettings())
