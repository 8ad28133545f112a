"""The gateway's `/api/...` routes: authorize, then forward through a ResilientClient.

Answers under 500 from a service are passed through as they are (status and JSON body);
an unavailable service is the shared 503 `dependency_unavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shop.common.client import ResilientClient
from shop.common.errors import ApiError, ErrorBody
from shop.common.validation import MAX_DB_INT
from shop.gateway.aggregation import OrderView
from shop.gateway.auth import Authorizer, Principal
from shop.gateway.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    SKU_PATTERN,
    OrderError,
    OrderOut,
    OrderRequest,
    Product,
    ProductPage,
    User,
    UserCreate,
)

# Headers of a service's answer worth passing on to the caller.
_PASSED_HEADERS = ("Idempotent-Replayed", "Retry-After", "Location")

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or unknown bearer token"},
    403: {"model": ErrorBody, "description": "The token lacks the route's scope"},
    429: {"model": ErrorBody, "description": "Over the client's rate limit (see Retry-After)"},
    503: {"model": ErrorBody, "description": "The service behind the route is unavailable"},
}


class OrderViewBody(BaseModel):
    order: OrderOut
    payment: dict[str, Any] | None
    user: User | None
    degraded: list[Literal["payments", "users"]]


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Not found"}
}

# OpenAPI links: what a client (and schemathesis' stateful phase) can do with an answer.
_USER_LINKS = {
    "GetUser": {"operationId": "get_user", "parameters": {"user_id": "$response.body#/id"}},
    # The rest of the order's body is the client's; only its user comes from this answer.
    "PlaceOrderForUser": {
        "operationId": "place_order",
        "requestBody": {"user_id": "$response.body#/id"},
    },
}
_ORDER_LINKS = {
    "GetOrderView": {
        "operationId": "get_order_view",
        "parameters": {"order_id": "$response.body#/id"},
    }
}
_FAILED_ORDER_LINKS = {
    "GetOrderView": {
        "operationId": "get_order_view",
        "parameters": {"order_id": "$response.body#/order/id"},
    }
}

Id = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
Sku = Annotated[str, Path(pattern=SKU_PATTERN)]


def relay(response: httpx.Response, dependency: str) -> JSONResponse:
    """A service's answer, passed on."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ApiError(
            502,
            "bad_gateway",
            f"{dependency} answered something other than JSON",
            extra={"dependency": dependency},
        ) from exc
    headers = {name: response.headers[name] for name in _PASSED_HEADERS if name in response.headers}
    return JSONResponse(body, status_code=response.status_code, headers=headers)


def build_router(*, clients: Mapping[str, ResilientClient], require: Authorizer) -> APIRouter:
    router = APIRouter(prefix="/api", responses=_AUTH_ERRORS)
    users, orders = clients["users"], clients["orders"]
    inventory = clients["inventory"]
    view = OrderView(orders=orders, payments=clients["payments"], users=users)

    @router.post(
        "/users",
        status_code=201,
        response_model=User,
        responses={
            201: {"description": "Created", "links": _USER_LINKS},
            409: {"model": ErrorBody, "description": "Email taken"},
        },
        operation_id="create_user",
    )
    async def create_user(
        body: UserCreate, _who: Principal = Depends(require("users:write"))
    ) -> JSONResponse:
        return relay(await users.post("/users", json=body.model_dump(mode="json")), "users")

    @router.get(
        "/users/{user_id}", response_model=User, responses=_NOT_FOUND, operation_id="get_user"
    )
    async def get_user(
        user_id: Id, _who: Principal = Depends(require("users:read"))
    ) -> JSONResponse:
        return relay(await users.get(f"/users/{user_id}"), "users")

    @router.get("/products", response_model=ProductPage, operation_id="list_products")
    async def list_products(
        _who: Principal = Depends(require("catalog:read")),
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
    ) -> JSONResponse:
        params = {"limit": limit, "offset": offset}
        return relay(await inventory.get("/products", params=params), "inventory")

    @router.get(
        "/products/{sku}", response_model=Product, responses=_NOT_FOUND, operation_id="get_product"
    )
    async def get_product(
        sku: Sku, _who: Principal = Depends(require("catalog:read"))
    ) -> JSONResponse:
        return relay(await inventory.get(f"/products/{sku}"), "inventory")

    @router.post(
        "/orders",
        status_code=201,
        response_model=OrderOut,
        responses={
            201: {"description": "Placed: the saga completed", "links": _ORDER_LINKS},
            200: {
                "model": OrderOut,
                "description": "A replay of this Idempotency-Key",
                "links": _ORDER_LINKS,
            },
            **{
                code: {"model": OrderError, "description": text, "links": _FAILED_ORDER_LINKS}
                for code, text in (
                    (402, "Card declined; the order is cancelled"),
                    (409, "Stock short (order cancelled), or the key was reused"),
                    (503, "A service is unavailable; a placed order is cancelled"),
                )
            },
            422: {"model": OrderError, "description": "Invalid request, unknown user or product"},
            502: {"model": OrderError, "description": "A service gave an unexpected answer"},
        },
        operation_id="place_order",
    )
    async def place_order(
        body: OrderRequest,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)
        ],
        _who: Principal = Depends(require("orders:write")),
    ) -> JSONResponse:
        """Place an order; the key goes through, so retries (ours and the caller's) are safe."""
        response = await orders.post(
            "/orders", json=body.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return relay(response, "orders")

    @router.get(
        "/orders/{order_id}",
        response_model=OrderViewBody,
        responses=_NOT_FOUND,
        operation_id="get_order_view",
    )
    async def get_order(
        order_id: Id, _who: Principal = Depends(require("orders:read"))
    ) -> JSONResponse:
        """The order with its payment and user; `degraded` names the parts that are missing
        because their service is unavailable."""
        status, body = await view.order(order_id)
        return JSONResponse(body, status_code=status)

    return router
