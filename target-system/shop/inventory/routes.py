"""inventory endpoints: products and reservations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from shop.common.app import error_responses
from shop.common.db import session_scope
from shop.common.errors import Conflict, NotFound
from shop.common.validation import DbId, NonNegativeDbInt
from shop.inventory import stock
from shop.inventory.models import ProductRow, ReservationRow
from shop.inventory.schemas import (
    IdempotencyKey,
    Product,
    ProductCreate,
    ProductPage,
    Reservation,
    ReservationCreate,
    ReservationPage,
    ReservationVoid,
    ReservationVoidAnswer,
    Sku,
)

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[NonNegativeDbInt, Query()]

RESERVATION_NOT_FOUND = error_responses({404: "No reservation with this id"})

# OpenAPI links: what a client (and schemathesis' stateful phase) can do next.
PRODUCT_LINKS = {
    "GetProduct": {"operationId": "get_product", "parameters": {"sku": "$response.body#/sku"}},
}
_RESERVATION_ID = {"reservation_id": "$response.body#/id"}
RESERVATION_LINKS = {
    "GetReservation": {"operationId": "get_reservation", "parameters": _RESERVATION_ID},
    "ConfirmReservation": {"operationId": "confirm_reservation", "parameters": _RESERVATION_ID},
    "CancelReservation": {"operationId": "cancel_reservation", "parameters": _RESERVATION_ID},
}


def build_router(engine: Engine) -> APIRouter:
    router = APIRouter()
    _add_product_routes(router, engine)
    _add_reservation_routes(router, engine)
    return router


def _add_product_routes(router: APIRouter, engine: Engine) -> None:
    @router.post(
        "/products",
        status_code=201,
        tags=["products"],
        responses={
            201: {"description": "Created", "links": PRODUCT_LINKS},
            **error_responses({409: "A product with this sku exists"}),
        },
        operation_id="create_product",
    )
    def create_product(body: ProductCreate) -> Product:
        row = ProductRow(
            sku=body.sku, name=body.name, price_cents=body.price_cents, stock=body.stock, reserved=0
        )
        try:
            with session_scope(engine, write=True) as session:
                session.add(row)
        except IntegrityError as exc:
            raise Conflict(f"product {body.sku} exists", error="duplicate_sku") from exc
        return Product.model_validate(row)

    @router.get("/products", tags=["products"], operation_id="list_products")
    def list_products(limit: Limit = 100, offset: Offset = 0) -> ProductPage:
        with session_scope(engine) as session:
            total = session.scalar(select(func.count()).select_from(ProductRow)) or 0
            rows = session.scalars(
                select(ProductRow).order_by(ProductRow.sku).limit(limit).offset(offset)
            )
            return ProductPage(items=[Product.model_validate(r) for r in rows], total=total)

    @router.get(
        "/products/{sku}",
        tags=["products"],
        responses=error_responses({404: "No product with this sku"}),
        operation_id="get_product",
    )
    def get_product(sku: Sku) -> Product:
        with session_scope(engine) as session:
            row = session.get(ProductRow, sku)
            if row is None:
                raise NotFound(f"product {sku} not found")
            return Product.model_validate(row)


def _add_reservation_routes(router: APIRouter, engine: Engine) -> None:
    @router.post(
        "/reservations",
        status_code=201,
        response_model=Reservation,
        tags=["reservations"],
        responses={
            201: {"description": "Reserved", "links": RESERVATION_LINKS},
            200: {
                "model": Reservation,
                "description": "Replay: the reservation made with this key",
                "links": RESERVATION_LINKS,
            },
            **error_responses(
                {
                    404: "A sku does not exist",
                    409: ("Not enough stock, or the key was used with another body or voided"),
                }
            ),
        },
        operation_id="create_reservation",
    )
    def create_reservation(
        body: ReservationCreate, idempotency_key: Annotated[IdempotencyKey, Header()]
    ) -> JSONResponse:
        """Reserve every item or none; replaying the same key and body gives the same answer."""
        reservation, created = stock.reserve(engine, key=idempotency_key, request=body)
        return JSONResponse(
            reservation.model_dump(mode="json"), status_code=201 if created else 200
        )

    @router.post(
        "/reservation-voids",
        tags=["reservations"],
        operation_id="void_reservation_key",
    )
    def void_reservation_key(body: ReservationVoid) -> ReservationVoidAnswer:
        """Settle a reserve key: the reservation made with it, or the key voided, so that a
        reserve request under it still on its way is refused (409 `idempotency_key_voided`)."""
        reservation = stock.void_key(engine, key=body.idempotency_key)
        return ReservationVoidAnswer(
            idempotency_key=body.idempotency_key,
            voided=reservation is None,
            reservation=reservation,
        )

    @router.post(
        "/reservations/{reservation_id}/confirm",
        tags=["reservations"],
        responses=error_responses(
            {404: "No reservation with this id", 409: "The reservation was cancelled"}
        ),
        operation_id="confirm_reservation",
    )
    def confirm_reservation(reservation_id: DbId) -> Reservation:
        return stock.confirm(engine, reservation_id)

    @router.post(
        "/reservations/{reservation_id}/cancel",
        tags=["reservations"],
        responses=error_responses(
            {404: "No reservation with this id", 409: "The reservation was confirmed"}
        ),
        operation_id="cancel_reservation",
    )
    def cancel_reservation(reservation_id: DbId) -> Reservation:
        return stock.cancel(engine, reservation_id)

    @router.get(
        "/reservations/{reservation_id}",
        tags=["reservations"],
        responses=RESERVATION_NOT_FOUND,
        operation_id="get_reservation",
    )
    def get_reservation(reservation_id: DbId) -> Reservation:
        with session_scope(engine) as session:
            row = session.get(ReservationRow, reservation_id)
            if row is None:
                raise NotFound(f"reservation {reservation_id} not found")
            return Reservation.model_validate(row)

    @router.get("/reservations", tags=["reservations"], operation_id="list_reservations")
    def list_reservations(
        order_id: Annotated[DbId | None, Query()] = None, limit: Limit = 100, offset: Offset = 0
    ) -> ReservationPage:
        query = select(ReservationRow)
        if order_id is not None:
            query = query.where(ReservationRow.order_id == order_id)
        with session_scope(engine) as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(ReservationRow.id).limit(limit).offset(offset))
            return ReservationPage(items=[Reservation.model_validate(r) for r in rows], total=total)
