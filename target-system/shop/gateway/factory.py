"""`build_app`: the gateway FastAPI app with a ResilientClient per service behind it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from shop.common.app import create_app
from shop.common.client import ResilientClient
from shop.common.db import make_engine
from shop.gateway.auth import make_authorizer
from shop.gateway.ratelimit import RateLimiter
from shop.gateway.routes import build_router
from shop.gateway.settings import GatewaySettings

SERVICE = "gateway"
DEPENDENCIES = ("users", "orders", "inventory", "payments")


def build_app(
    *,
    settings: GatewaySettings | None = None,
    engine: Engine | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """The gateway app. Keyword-only, all optional:

    - `settings` (read from the environment), `engine` (from `settings.database_url`; the
      gateway keeps no data, /ready only pings it);
    - `transports`: an httpx transport per service name (tests; default: the network);
    - `clock`: for the breakers, retry budgets and the rate limiter (time.monotonic).
    """
    settings = settings or GatewaySettings()
    engine = engine or make_engine(settings.database_url)
    transports = transports or {}
    clients = {
        name: ResilientClient(
            service=SERVICE,
            dependency=name,
            base_url=getattr(settings, f"{name}_url"),
            settings=settings.for_dependency(name),
            clock=clock,
            transport=transports.get(name),
        )
        for name in DEPENDENCIES
    }
    limiter_kwargs = {"clock": clock} if clock is not None else {}
    limiter = RateLimiter(
        rate=settings.gateway_rate_limit_rps,
        burst=settings.gateway_rate_limit_burst,
        **limiter_kwargs,
    )
    app = create_app(
        service=SERVICE,
        settings=settings,
        engine=engine,
        dependencies=clients,
        description="The single entry: bearer auth, rate limit, routing, order aggregation.",
    )
    require = make_authorizer(tokens=settings.gateway_tokens, limiter=limiter, service=SERVICE)
    app.include_router(build_router(clients=clients, require=require))
    return app
