"""Gateway settings: the shared knobs plus tokens and the rate limit (README "gateway")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shop.common.settings import MANUAL_PORTS, ServiceSettings

SCOPES = ("users:read", "users:write", "catalog:read", "orders:read", "orders:write")
READ_SCOPES = tuple(scope for scope in SCOPES if scope.endswith(":read"))


class TokenGrant(BaseModel):
    """Who a bearer token identifies and what it may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    scopes: frozenset[str]


DEFAULT_TOKENS = {
    "demo-token": TokenGrant(client="demo", scopes=frozenset(SCOPES)),
    "readonly-token": TokenGrant(client="reader", scopes=frozenset(READ_SCOPES)),
}


class GatewaySettings(ServiceSettings):
    """`GATEWAY_TOKENS` is JSON: `{"<token>": {"client": "<name>", "scopes": ["orders:read"]}}`.

    `GATEWAY_RATE_LIMIT_RPS` (100) refills each client's bucket, `GATEWAY_RATE_LIMIT_BURST`
    (200) is its size; an RPS of 0 turns the limit off.

    `GATEWAY_ORDERS_TIMEOUT` (5 s) is the read timeout towards orders, whose POST runs a
    whole saga (several calls, each with its own timeout and retries): with the shared
    1 s the gateway would give up, retry and trip its breaker on orders that are merely
    busy. Its slow-call threshold grows with it (80 %).
    """

    port: int = Field(default=MANUAL_PORTS["gateway"], ge=0, le=65535)
    database_url: str = "sqlite:///./gateway.db"
    gateway_tokens: dict[str, TokenGrant] = Field(default_factory=lambda: dict(DEFAULT_TOKENS))
    gateway_rate_limit_rps: float = Field(default=100.0, ge=0)
    gateway_rate_limit_burst: int = Field(default=200, ge=1)
    gateway_orders_timeout: float = Field(default=5.0, gt=0)

    def for_dependency(self, name: str) -> GatewaySettings:
        """The settings a dependency's client uses (orders gets its longer timeout)."""
        if name != "orders":
            return self
        timeout = self.gateway_orders_timeout
        return self.model_copy(
            update={
                "http_read_timeout": timeout,
                "breaker_slow_call_seconds": max(self.breaker_slow_call_seconds, 0.8 * timeout),
            }
        )
