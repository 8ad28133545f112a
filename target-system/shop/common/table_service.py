"""A service whose state is its own tables: the app every such shop service builds the same way.

users, inventory and notifications differ only in their tables, routes, provider states and
description; the wiring (engine, tables at start-up, test-mode reset and provider states)
lives here once.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine, MetaData

from shop.common.app import create_app, register_test_reset, run_at_startup
from shop.common.db import delete_all_rows, make_engine
from shop.common.provider_states import ProviderStates, register_provider_states
from shop.common.settings import ServiceSettings

__all__ = ["create_table_service"]


def create_table_service(
    *,
    service: str,
    settings: ServiceSettings,
    metadata: MetaData,
    build_router: Callable[[Engine], APIRouter],
    provider_states: Callable[[Engine], ProviderStates],
    description: str,
) -> FastAPI:
    """The FastAPI app of `service`: its tables created at start-up, its routes, and (in test
    mode only) `/_test/reset` and the Pact provider-state routes."""
    engine = make_engine(settings.database_url)
    app = create_app(
        service=service,
        settings=settings,
        engine=engine,
        lifespan_hooks=[run_at_startup(lambda: metadata.create_all(engine))],
        description=description,
    )
    app.include_router(build_router(engine))
    register_test_reset(app, settings=settings, reset=lambda: delete_all_rows(engine, metadata))
    register_provider_states(app, settings=settings, states=provider_states(engine))
    return app
