"""The inventory app: `shop.inventory.app:app`, built from the environment at import time."""

from __future__ import annotations

from fastapi import FastAPI

from shop.common.table_service import create_table_service
from shop.inventory.models import Base
from shop.inventory.provider_states import provider_states
from shop.inventory.routes import build_router
from shop.inventory.settings import InventorySettings

SERVICE = "inventory"


def build_app(settings: InventorySettings) -> FastAPI:
    return create_table_service(
        service=SERVICE,
        settings=settings,
        metadata=Base.metadata,
        build_router=build_router,
        provider_states=provider_states,
        description="Products, stock and reservations (reserve / confirm / cancel).",
    )


app = build_app(InventorySettings())
