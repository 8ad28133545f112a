"""The inventory app: `shop.inventory.app:app`, built from the environment at import time."""

from __future__ import annotations

from fastapi import FastAPI

from shop.common.app import create_app, register_test_reset, run_at_startup
from shop.common.db import delete_all_rows, make_engine
from shop.common.provider_states import register_provider_states
from shop.inventory.models import Base
from shop.inventory.provider_states import provider_states
from shop.inventory.routes import build_router
from shop.inventory.settings import InventorySettings

SERVICE = "inventory"


def build_app(settings: InventorySettings) -> FastAPI:
    engine = make_engine(settings.database_url)

    app = create_app(
        service=SERVICE,
        settings=settings,
        engine=engine,
        lifespan_hooks=[run_at_startup(lambda: Base.metadata.create_all(engine))],
        description="Products, stock and reservations (reserve / confirm / cancel).",
    )
    app.include_router(build_router(engine))
    register_test_reset(
        app, settings=settings, reset=lambda: delete_all_rows(engine, Base.metadata)
    )
    register_provider_states(app, settings=settings, states=provider_states(engine))
    return app


app = build_app(InventorySettings())
