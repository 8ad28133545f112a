"""Orders settings: the shared knobs with this service's own port and database."""

from __future__ import annotations

from pydantic import Field

from shop.common.settings import MANUAL_PORTS, ServiceSettings


class OrdersSettings(ServiceSettings):
    port: int = Field(default=MANUAL_PORTS["orders"], ge=0, le=65535)
    database_url: str = "sqlite:///./orders.db"
