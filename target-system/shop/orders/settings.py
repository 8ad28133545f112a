"""Orders settings: the shared knobs with this service's own port and database."""

from __future__ import annotations

from pydantic import Field

from shop.common.settings import MANUAL_PORTS, ServiceSettings


class OrdersSettings(ServiceSettings):
    port: int = Field(default=MANUAL_PORTS["orders"], ge=0, le=65535)
    database_url: str = "sqlite:///./orders.db"
    # POST /orders answers within this many seconds of receiving the request, below the
    # gateway's GATEWAY_ORDERS_TIMEOUT (5 s): a saga still running then (a dependency hanging,
    # each call taking its timeout times its attempts) goes on in the background, and the
    # answer says so (503 saga_in_progress, with the order); the same Idempotency-Key later
    # gives the outcome. Without it the inner budget outlasted the outer one.
    orders_answer_within: float = Field(default=4.0, gt=0)
