"""Bearer-token authentication with scopes, and the per-client rate limit behind it.

No token or an unknown one is a 401 with `WWW-Authenticate: Bearer` (RFC 6750); a token
without the route's scope is a 403; a client over its rate is a 429 with `Retry-After`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shop.common import metrics
from shop.common.errors import ApiError
from shop.gateway.ratelimit import RateLimiter
from shop.gateway.settings import TokenGrant

REALM = 'Bearer realm="shop"'

# auto_error=False: the 401 is ours (JSON error shape), the scheme still shows in OpenAPI.
bearer = HTTPBearer(auto_error=False, description="A token from GATEWAY_TOKENS.")


@dataclass(frozen=True, slots=True)
class Principal:
    client: str
    scopes: frozenset[str]


Authorizer = Callable[[str], Callable[..., Awaitable[Principal]]]


def make_authorizer(
    *, tokens: Mapping[str, TokenGrant], limiter: RateLimiter, service: str = "gateway"
) -> Authorizer:
    """`require(scope)`: a FastAPI dependency answering the caller, or raising 401/403/429."""

    def require(scope: str) -> Callable[..., Awaitable[Principal]]:
        async def authorize(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Principal:
            principal = _authenticate(credentials, tokens)
            if scope not in principal.scopes:
                raise ApiError(
                    403,
                    "forbidden",
                    f"this token lacks the scope {scope}",
                    headers={
                        "WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'
                    },
                )
            wait = limiter.check(principal.client)
            if wait > 0:
                metrics.RATE_LIMITED.labels(service=service, client=principal.client).inc()
                raise ApiError(
                    429,
                    "rate_limited",
                    f"client {principal.client} is over its rate limit",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            return principal

        return authorize

    return require


def _authenticate(
    credentials: HTTPAuthorizationCredentials | None, tokens: Mapping[str, TokenGrant]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401, "unauthorized", "a bearer token is required", headers={"WWW-Authenticate": REALM}
        )
    grant = tokens.get(credentials.credentials)
    if grant is None:
        raise ApiError(
            401,
            "unauthorized",
            "unknown bearer token",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return Principal(client=grant.client, scopes=grant.scopes)
