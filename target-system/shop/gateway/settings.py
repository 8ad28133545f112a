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
    """

    port: int = Field(default=MANUAL_PORTS["gateway"], ge=0, le=65535)
    database_url: str = "sqlite:///./gateway.db"
    gateway_tokens: dict[str, TokenGrant] = Field(default_factory=lambda: dict(DEFAULT_TOKENS))
    gateway_rate_limit_rps: float = Field(default=100.0, ge=0)
    gateway_rate_limit_burst: int = Field(default=200, ge=1)
