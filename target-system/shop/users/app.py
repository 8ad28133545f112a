"""The users app: `shop.users.app:app`, built from the environment at import time."""

from __future__ import annotations

from fastapi import FastAPI

from shop.common.table_service import create_table_service
from shop.users.models import Base
from shop.users.provider_states import provider_states
from shop.users.routes import build_router
from shop.users.settings import UsersSettings

SERVICE = "users"


def build_app(settings: UsersSettings) -> FastAPI:
    return create_table_service(
        service=SERVICE,
        settings=settings,
        metadata=Base.metadata,
        build_router=build_router,
        provider_states=provider_states,
        description="Users CRUD with validation.",
    )


app = build_app(UsersSettings())
