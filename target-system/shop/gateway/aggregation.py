"""`GET /api/orders/{id}`: the order (critical) with its payment and user (non-critical).

The order decides the answer: its 404 is the answer's 404, and an unavailable orders
service is a 503. Payment and user are fetched concurrently afterwards; when either service
is unavailable the answer is still a 200, with that part `null` and its name in `degraded`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from shop.common.client import ResilientClient
from shop.common.errors import DependencyUnavailable, error_body
from shop.gateway.schemas import OrderRef

logger = logging.getLogger(__name__)


class OrderView:
    """Keyword-only: the `orders`, `payments` and `users` clients."""

    def __init__(
        self, *, orders: ResilientClient, payments: ResilientClient, users: ResilientClient
    ) -> None:
        self.orders = orders
        self.payments = payments
        self.users = users

    async def order(self, order_id: int) -> tuple[int, dict[str, Any]]:
        """(status code, body): the aggregate on 200, else the orders service's own answer."""
        response = await self.orders.get(f"/orders/{order_id}")
        if response.status_code != 200:
            return response.status_code, _json_or_error(response)
        order = _json_or_none(response)
        ref = OrderRef.parse(order)
        if ref is None:
            return 502, error_body("bad_gateway", "orders answered something other than an order")
        payment, user = await asyncio.gather(
            self._part(self.payments, f"/payments/{ref.payment_id}")
            if ref.payment_id
            else _nothing(),
            self._part(self.users, f"/users/{ref.user_id}"),
        )
        degraded = [
            name for name, part in (("payments", payment), ("users", user)) if part is _DOWN
        ]
        return 200, {
            "order": order,
            "payment": None if payment is _DOWN else payment,
            "user": None if user is _DOWN else user,
            "degraded": degraded,
        }

    async def _part(self, client: ResilientClient, path: str) -> Any:
        try:
            response = await client.get(path)
        except DependencyUnavailable as exc:
            logger.info("order view degraded: %s", exc.detail)
            return _DOWN
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            logger.warning(
                "order view: %s %s answered %s", client.dependency, path, response.status_code
            )
            return _DOWN
        try:
            return response.json()
        except ValueError:
            return _DOWN


_DOWN = object()


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_or_error(response: httpx.Response) -> dict[str, Any]:
    body = _json_or_none(response)
    if isinstance(body, dict):
        return body
    return error_body("bad_gateway", f"orders answered {response.status_code} without JSON")


async def _nothing() -> None:
    return None
