"""notifications settings: the shared knobs, with this service's port and database defaults."""

from __future__ import annotations

from pydantic import Field

from shop.common.settings import MANUAL_PORTS, ServiceSettings


class NotificationsSettings(ServiceSettings):
    port: int = Field(default=MANUAL_PORTS["notifications"], ge=0, le=65535)
    database_url: str = "sqlite:///./notifications.db"
