"""Service configuration from the environment (the README's configuration table).

Every knob has the documented default. Services subclass `ServiceSettings` to set their own
`port` and `database_url` defaults; env vars (case-insensitive) always win.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MANUAL_PORTS: dict[str, int] = {
    "gateway": 8100,
    "users": 8101,
    "inventory": 8102,
    "payments": 8103,
    "orders": 8104,
    "notifications": 8105,
}


def _local_url(service: str) -> str:
    return f"http://127.0.0.1:{MANUAL_PORTS[service]}"


class ServiceSettings(BaseSettings):
    """Settings shared by every service; field names are the env var names, lower-cased."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=0, le=65535)
    database_url: str = "sqlite:///./shop.db"

    users_url: str = _local_url("users")
    inventory_url: str = _local_url("inventory")
    payments_url: str = _local_url("payments")
    orders_url: str = _local_url("orders")
    notifications_url: str = _local_url("notifications")

    http_connect_timeout: float = Field(default=0.5, gt=0)
    http_read_timeout: float = Field(default=1.0, gt=0)

    retry_max_attempts: int = Field(default=3, ge=1, le=20)
    retry_backoff_base: float = Field(default=0.05, ge=0)
    retry_backoff_max: float = Field(default=0.5, ge=0)
    retry_budget_ratio: float = Field(default=0.2, ge=0)
    # The budget's sliding window and the retries always allowed in it, so a quiet service
    # can still retry its first failures (Finagle's RetryBudget does the same).
    retry_budget_window_seconds: float = Field(default=10.0, gt=0)
    retry_budget_min_retries: int = Field(default=3, ge=0)

    breaker_enabled: bool = True
    breaker_failure_rate: float = Field(default=0.5, gt=0, le=1)
    breaker_window_size: int = Field(default=20, ge=1)
    breaker_min_calls: int = Field(default=5, ge=1)
    breaker_slow_call_seconds: float = Field(default=0.8, gt=0)
    breaker_slow_call_rate: float = Field(default=0.8, gt=0, le=1)
    breaker_open_seconds: float = Field(default=5.0, ge=0)
    breaker_half_open_calls: int = Field(default=2, ge=1)

    bulkhead_max_concurrent: int = Field(default=20, ge=1)

    orders_send_idempotency_key: bool = True
    outbox_enabled: bool = True
    outbox_relay_interval: float = Field(default=0.2, gt=0)
    saga_recovery_interval: float = Field(default=1.0, gt=0)

    shop_test_mode: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
