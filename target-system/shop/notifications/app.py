"""The notifications app: `shop.notifications.app:app`, built from the environment at import."""

from __future__ import annotations

from fastapi import FastAPI

from shop.common.app import create_app, register_test_reset, run_at_startup
from shop.common.db import delete_all_rows, make_engine
from shop.common.provider_states import register_provider_states
from shop.notifications.models import Base
from shop.notifications.provider_states import provider_states
from shop.notifications.routes import build_router
from shop.notifications.settings import NotificationsSettings

SERVICE = "notifications"


def build_app(settings: NotificationsSettings) -> FastAPI:
    engine = make_engine(settings.database_url)

    app = create_app(
        service=SERVICE,
        settings=settings,
        engine=engine,
        lifespan_hooks=[run_at_startup(lambda: Base.metadata.create_all(engine))],
        description="Order events from the outbox relay, deduped by event id.",
    )
    app.include_router(build_router(engine, service=SERVICE))
    register_test_reset(
        app, settings=settings, reset=lambda: delete_all_rows(engine, Base.metadata)
    )
    register_provider_states(app, settings=settings, states=provider_states(engine))
    return app


app = build_app(NotificationsSettings())
