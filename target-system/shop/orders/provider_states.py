"""The orders service's Pact provider states and message producer (SHOP_TEST_MODE only, see
shop.common.provider_states).

- HTTP states write orders directly (`an order exists`), or set up the data the saga reads
  from orders' own dependencies (`an order can be placed`): orders forwards those states to
  the dependencies' provider-state routes, so they must run in SHOP_TEST_MODE too.
- Message states end a saga through `SagaStore.finish`, the code that writes the outbox
  event; `POST /_test/messages` answers with that outbox row as the relay sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints
from sqlalchemy import delete, select

from shop.common.client import ResilientClient
from shop.common.db import session_scope, utc_now
from shop.common.errors import ApiError
from shop.common.provider_states import (
    PROVIDER_STATES_PATH,
    Message,
    MessageRequest,
    ProviderStates,
    StateChange,
)
from shop.common.validation import JsonId, JsonNonNegativeInt, JsonPositiveInt
from shop.orders.models import Order, OrderStatus, OutboxEvent, Saga, SagaState, SagaStep, Step
from shop.orders.schemas import SKU_PATTERN
from shop.orders.store import SagaStore

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]


class OrderExists(BaseModel):
    order_id: JsonId
    user_id: JsonId = 1
    status: Literal["pending", "confirmed", "cancelled"] = "confirmed"
    sku: Sku = "SKU-1"
    quantity: JsonPositiveInt = 2
    total_cents: JsonNonNegativeInt = 2500
    payment_id: JsonId | None = None
    reservation_id: JsonId | None = None
    reason: str | None = None


class OrderAbsent(BaseModel):
    order_id: JsonId


class OrderCanBePlaced(BaseModel):
    user_id: JsonId
    sku: Sku = "SKU-1"
    price_cents: JsonNonNegativeInt = 1250
    stock: JsonNonNegativeInt = 10


class OrderEnded(BaseModel):
    order_id: JsonId
    user_id: JsonId = 1
    sku: Sku = "SKU-1"
    quantity: JsonPositiveInt = 2
    total_cents: JsonNonNegativeInt = 2500
    reason: str | None = None


def provider_states(*, store: SagaStore, clients: Mapping[str, ResilientClient]) -> ProviderStates:
    states = ProviderStates(teardown=store.reset)

    @states.state("an order exists", params=OrderExists)
    def order_exists(params: OrderExists) -> None:
        _remove_order(store, params.order_id)
        with session_scope(store.engine, write=True) as session:
            session.add(_order(params.order_id, params.user_id, params, status=params.status))

    @states.state("no such order", params=OrderAbsent)
    def no_such_order(params: OrderAbsent) -> None:
        _remove_order(store, params.order_id)

    @states.state("an order can be placed", params=OrderCanBePlaced)
    async def order_can_be_placed(params: OrderCanBePlaced) -> None:
        await _forward(clients, "users", "a user exists", {"user_id": params.user_id})
        product = params.model_dump(include={"sku", "price_cents", "stock"})
        await _forward(clients, "inventory", "a product exists", product)

    @states.state("an order was confirmed", params=OrderEnded)
    def order_confirmed(params: OrderEnded) -> None:
        _end_saga(store, params, OrderStatus.CONFIRMED)

    @states.state("an order was cancelled", params=OrderEnded)
    def order_cancelled(params: OrderEnded) -> None:
        _end_saga(store, params, OrderStatus.CANCELLED)

    return states


def latest_event(store: SagaStore, request: MessageRequest) -> Message:
    """The newest outbox event of the order named by the provider state's `order_id`."""
    order_id = request.param("order_id")
    events = store.events_for_order(order_id) if isinstance(order_id, int) else []
    if not events:
        raise ApiError(
            404, "no_event", f"message {request.description!r}: no event for order {order_id!r}"
        )
    return Message(body=events[-1].to_event())


def _order(order_id: int, user_id: int, params: OrderExists | OrderEnded, *, status: str) -> Order:
    now = utc_now()
    return Order(
        id=order_id,
        user_id=user_id,
        items=[{"sku": params.sku, "quantity": params.quantity}],
        total_cents=params.total_cents,
        status=status,
        reason=params.reason,
        payment_id=getattr(params, "payment_id", None),
        reservation_id=getattr(params, "reservation_id", None),
        idempotency_key=f"provider-state-{uuid.uuid4().hex}",
        request_fingerprint="provider-state",
        created_at=now,
        updated_at=now,
    )


def _end_saga(store: SagaStore, params: OrderEnded, status: OrderStatus) -> None:
    """A pending order whose saga `finish` ends now, writing the order's outbox event.

    Runs without awaiting anything, so the recovery task (same event loop) never sees the
    saga in flight.
    """
    _remove_order(store, params.order_id)
    now = utc_now()
    with session_scope(store.engine, write=True) as session:
        session.add(_order(params.order_id, params.user_id, params, status=OrderStatus.PENDING))
        session.flush()
        saga = Saga(
            uid=uuid.uuid4().hex,
            order_id=params.order_id,
            state=SagaState.RUNNING,
            step=Step.VALIDATE_USER,
            card_token="tok_visa",
            created_at=now,
            updated_at=now,
        )
        session.add(saga)
        session.flush()
        saga_id = saga.id
    confirmed = status is OrderStatus.CONFIRMED
    store.finish(
        saga_id,
        state=SagaState.COMPLETED if confirmed else SagaState.COMPENSATED,
        order_status=status,
        reason=None if confirmed else (params.reason or "cancelled"),
    )


def _remove_order(store: SagaStore, order_id: int) -> None:
    with session_scope(store.engine, write=True) as session:
        sagas = select(Saga.id).where(Saga.order_id == order_id)
        session.execute(delete(SagaStep).where(SagaStep.saga_id.in_(sagas)))
        session.execute(delete(Saga).where(Saga.order_id == order_id))
        session.execute(delete(OutboxEvent).where(OutboxEvent.order_id == order_id))
        session.execute(delete(Order).where(Order.id == order_id))


async def _forward(
    clients: Mapping[str, ResilientClient], dependency: str, state: str, params: dict[str, Any]
) -> None:
    """Set up `state` on a dependency through its own provider-state route."""
    change = StateChange(state=state, params=params)
    response = await clients[dependency].post(PROVIDER_STATES_PATH, json=change.model_dump())
    if response.status_code != 200:
        raise ApiError(
            502,
            "provider_state_failed",
            f"{dependency} answered {response.status_code} to provider state {state!r} "
            f"(does it run with SHOP_TEST_MODE=true?): {response.text[:300]}",
        )
