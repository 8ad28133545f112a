"""Payments settings: the shared knobs with this service's own port and database."""

from __future__ import annotations

from pydantic import Field

from shop.common.settings import MANUAL_PORTS, ServiceSettings


class PaymentsSettings(ServiceSettings):
    port: int = Field(default=MANUAL_PORTS["payments"], ge=0, le=65535)
    database_url: str = "sqlite:///./payments.db"
