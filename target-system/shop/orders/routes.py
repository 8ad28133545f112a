"""The orders HTTP API (README "orders"): POST /orders runs the saga and answers its end."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from shop.common.errors import NotFound
from shop.common.validation import MAX_DB_INT
from shop.orders.models import IN_FLIGHT_STATES
from shop.orders.placement import OrderPlacement
from shop.orders.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    OrderError,
    OrderList,
    OrderOut,
    OrderRequest,
    SagaDetail,
    SagaList,
)
from shop.orders.store import SagaStore

# OpenAPI links: the order an answer is about, whether it was placed or failed (cancelled).
_ORDER_LINKS = {
    "GetOrder": {"operationId": "get_order", "parameters": {"order_id": "$response.body#/id"}}
}
_FAILED_ORDER_LINKS = {
    "GetOrder": {"operationId": "get_order", "parameters": {"order_id": "$response.body#/order/id"}}
}
_FAILURE = {"model": OrderError, "links": _FAILED_ORDER_LINKS}
PlaceResponses: dict[int | str, dict[str, Any]] = {
    201: {"description": "Placed: the saga completed", "links": _ORDER_LINKS},
    200: {
        "model": OrderOut,
        "description": (
            "A replay of a placed order (a replay of a failed one answers its failure again)"
        ),
        "links": _ORDER_LINKS,
    },
    402: {**_FAILURE, "description": "Card declined; the order is cancelled"},
    409: {**_FAILURE, "description": "Stock short (order cancelled), or the key was reused"},
    422: {"model": OrderError, "description": "Invalid request, unknown user or unknown product"},
    502: {"model": OrderError, "description": "A dependency gave an unexpected answer"},
    503: {**_FAILURE, "description": "A dependency is unavailable"},
}

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]
SagaFilter = Literal["in_flight", "running", "compensating", "completed", "compensated", "failed"]


def build_router(*, store: SagaStore, placement: OrderPlacement) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/orders",
        status_code=201,
        response_model=OrderOut,
        responses=PlaceResponses,
        operation_id="place_order",
    )
    async def place_order(body: OrderRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
        """Place an order: runs the saga and answers when it has ended."""
        answer = await placement.place(idempotency_key=idempotency_key, request=body)
        return JSONResponse(answer.body, status_code=answer.status_code, headers=answer.headers)

    @router.get(
        "/orders/{order_id}",
        response_model=OrderOut,
        responses={404: {"model": OrderError, "description": "No such order"}},
        operation_id="get_order",
    )
    def get_order(order_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)]) -> dict[str, Any]:
        order = store.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order.to_json()

    @router.get("/orders", response_model=OrderList, operation_id="list_orders")
    def list_orders(
        status: Literal["pending", "confirmed", "cancelled"] | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        rows, total = store.list_orders(status=status, limit=limit, offset=offset)
        return {"items": [row.to_json() for row in rows], "total": total}

    @router.get("/sagas", response_model=SagaList, operation_id="list_sagas")
    def list_sagas(
        state: SagaFilter | None = None, limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        """Sagas by state (`in_flight` = running or compensating), for invariant checks."""
        states = (
            [str(s) for s in IN_FLIGHT_STATES]
            if state == "in_flight"
            else ([state] if state else None)
        )
        rows, total = store.list_sagas(states=states, limit=limit, offset=offset)
        return {"items": [row.to_json() for row in rows], "total": total}

    @router.get(
        "/sagas/{saga_id}",
        response_model=SagaDetail,
        responses={404: {"model": OrderError, "description": "No such saga"}},
        operation_id="get_saga",
    )
    def get_saga(saga_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)]) -> dict[str, Any]:
        """One saga with its step log."""
        saga = store.get_saga(saga_id)
        if saga is None:
            raise NotFound(f"saga {saga_id} not found")
        return {**saga.to_json(), "steps": [s.to_json() for s in store.saga_log(saga_id)]}

    return router
