"""Persistence for orders, sagas, the saga log and the outbox: one short transaction each.

The saga calls `record` after every step (and before every remote call whose outcome it
must be able to find again after a crash), so the database always says how far it got.
`finish` writes the order's final status, the saga's end and the order's event in ONE
transaction: that is the outbox pattern (with the outbox off, the event is returned for a
direct, unsafe send instead of being stored).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from shop.common.db import session_scope, utc_now
from shop.orders.models import (
    IN_FLIGHT_STATES,
    Base,
    Order,
    OrderStatus,
    OutboxEvent,
    OutboxStatus,
    Saga,
    SagaState,
    SagaStep,
    Step,
)


class DuplicateOrderKey(Exception):
    """Another order holds this Idempotency-Key (a concurrent twin got there first)."""


@dataclass(frozen=True, slots=True)
class Finished:
    saga: Saga
    order: Order
    # The event to send directly when the outbox is off (None when it went to the outbox).
    direct_event: dict[str, Any] | None


# Saga columns `record` may change, and the order columns they are mirrored to.
_SAGA_FIELDS = frozenset(
    {
        "state",
        "step",
        "reservation",
        "reservation_id",
        "charge",
        "charge_key",
        "payment_id",
        "failure_status",
        "failure_error",
        "failure_detail",
        "failure_dependency",
        "compensation_attempts",
        "last_error",
    }
)
_MIRRORED_ON_ORDER = ("reservation_id", "payment_id")


class SagaStore:
    """All database access of the orders service. Keyword-only: `outbox_enabled` (True)."""

    def __init__(self, engine: Engine, *, outbox_enabled: bool = True) -> None:
        self.engine = engine
        self.outbox_enabled = outbox_enabled

    def create_tables(self) -> None:
        Base.metadata.create_all(self.engine)

    # -- orders ----------------------------------------------------------------------------

    def create(
        self,
        *,
        idempotency_key: str,
        fingerprint: str,
        user_id: int,
        items: list[dict[str, Any]],
        total_cents: int,
        card_token: str,
    ) -> tuple[Order, Saga]:
        """A pending order and its running saga (user already validated), or DuplicateOrderKey."""
        now = utc_now()
        try:
            with session_scope(self.engine, write=True) as session:
                order = Order(
                    user_id=user_id,
                    items=items,
                    total_cents=total_cents,
                    status=OrderStatus.PENDING,
                    idempotency_key=idempotency_key,
                    request_fingerprint=fingerprint,
                    created_at=now,
                    updated_at=now,
                )
                session.add(order)
                session.flush()
                saga = Saga(
                    uid=uuid.uuid4().hex,
                    order_id=order.id,
                    state=SagaState.RUNNING,
                    step=Step.VALIDATE_USER,
                    card_token=card_token,
                    created_at=now,
                    updated_at=now,
                )
                session.add(saga)
                session.flush()
                session.add(SagaStep(saga_id=saga.id, step=Step.VALIDATE_USER, outcome="success"))
        except IntegrityError as exc:
            raise DuplicateOrderKey(idempotency_key) from exc
        return order, saga

    def find_order_by_key(self, idempotency_key: str) -> Order | None:
        with session_scope(self.engine) as session:
            return session.scalars(
                select(Order).where(Order.idempotency_key == idempotency_key)
            ).one_or_none()

    def get_order(self, order_id: int) -> Order | None:
        with session_scope(self.engine) as session:
            return session.get(Order, order_id)

    def list_orders(
        self, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[Order], int]:
        conditions = [Order.status == status] if status else []
        with session_scope(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(Order).where(*conditions))
            rows = session.scalars(
                select(Order).where(*conditions).order_by(Order.id).limit(limit).offset(offset)
            ).all()
        return list(rows), total or 0

    # -- sagas -----------------------------------------------------------------------------

    def get_saga(self, saga_id: int) -> Saga | None:
        with session_scope(self.engine) as session:
            return session.get(Saga, saga_id)

    def saga_for_order(self, order_id: int) -> Saga | None:
        with session_scope(self.engine) as session:
            return session.scalars(select(Saga).where(Saga.order_id == order_id)).one_or_none()

    def saga_log(self, saga_id: int) -> list[SagaStep]:
        with session_scope(self.engine) as session:
            return list(
                session.scalars(
                    select(SagaStep).where(SagaStep.saga_id == saga_id).order_by(SagaStep.id)
                ).all()
            )

    def list_sagas(
        self, *, states: Sequence[str] | None, limit: int, offset: int
    ) -> tuple[list[Saga], int]:
        conditions = [Saga.state.in_(states)] if states else []
        with session_scope(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(Saga).where(*conditions))
            rows = session.scalars(
                select(Saga).where(*conditions).order_by(Saga.id).limit(limit).offset(offset)
            ).all()
        return list(rows), total or 0

    def in_flight(self) -> list[Saga]:
        with session_scope(self.engine) as session:
            return list(
                session.scalars(
                    select(Saga).where(Saga.state.in_(IN_FLIGHT_STATES)).order_by(Saga.id)
                ).all()
            )

    def count_in_flight(self) -> int:
        with session_scope(self.engine) as session:
            count = session.scalar(
                select(func.count()).select_from(Saga).where(Saga.state.in_(IN_FLIGHT_STATES))
            )
        return count or 0

    def record(
        self,
        saga_id: int,
        *,
        log_step: str,
        outcome: str,
        detail: str | None = None,
        **changes: Any,
    ) -> Saga:
        """Append `log_step: outcome` to the saga log and apply `changes` (saga columns, e.g.
        `step=` the last step done) to the saga, atomically."""
        unknown = set(changes) - _SAGA_FIELDS
        if unknown:
            raise ValueError(f"not saga fields: {sorted(unknown)}")
        now = utc_now()
        with session_scope(self.engine, write=True) as session:
            saga = session.get_one(Saga, saga_id)
            for name, value in changes.items():
                setattr(saga, name, value)
            saga.updated_at = now
            mirrored = {k: changes[k] for k in _MIRRORED_ON_ORDER if k in changes}
            if mirrored:
                session.execute(
                    update(Order)
                    .where(Order.id == saga.order_id)
                    .values(**mirrored, updated_at=now)
                )
            session.add(
                SagaStep(saga_id=saga_id, step=log_step, outcome=outcome, detail=detail, at=now)
            )
        return saga

    def finish(
        self, saga_id: int, *, state: SagaState, order_status: OrderStatus, reason: str | None
    ) -> Finished:
        """End the saga, set the order's final status and write its event: one transaction."""
        step = Step.CONFIRM_ORDER if order_status is OrderStatus.CONFIRMED else Step.CANCEL_ORDER
        now = utc_now()
        with session_scope(self.engine, write=True) as session:
            saga = session.get_one(Saga, saga_id)
            order = session.get_one(Order, saga.order_id)
            if saga.state not in IN_FLIGHT_STATES:
                # Finished before (a twin task): never a second event for the same order.
                return Finished(saga, order, None)
            saga.state = state
            saga.updated_at = now
            if order_status is OrderStatus.CONFIRMED:
                saga.step = step
            order.status = order_status
            order.reason = reason
            order.updated_at = now
            session.add(SagaStep(saga_id=saga_id, step=step, outcome="success", at=now))
            event = _event_row(order, now)
            if self.outbox_enabled:
                session.add(event)
        return Finished(saga, order, None if self.outbox_enabled else event.to_event())

    # -- outbox ----------------------------------------------------------------------------

    def pending_events(self, *, limit: int) -> list[OutboxEvent]:
        with session_scope(self.engine) as session:
            return list(
                session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.status == OutboxStatus.PENDING)
                    .order_by(OutboxEvent.id)
                    .limit(limit)
                ).all()
            )

    def mark_event(self, event_row_id: int, *, status: OutboxStatus) -> None:
        with session_scope(self.engine, write=True) as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_row_id)
                .values(
                    status=status,
                    attempts=OutboxEvent.attempts + 1,
                    delivered_at=utc_now() if status is OutboxStatus.SENT else None,
                )
            )

    def note_failed_delivery(self, event_row_id: int) -> None:
        with session_scope(self.engine, write=True) as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_row_id)
                .values(attempts=OutboxEvent.attempts + 1)
            )

    def events_for_order(self, order_id: int) -> list[OutboxEvent]:
        with session_scope(self.engine) as session:
            return list(
                session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.order_id == order_id)
                    .order_by(OutboxEvent.id)
                ).all()
            )

    def backlog(self) -> int:
        with session_scope(self.engine) as session:
            count = session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.status == OutboxStatus.PENDING)
            )
        return count or 0

    def reset(self) -> None:
        """Delete everything (SHOP_TEST_MODE's /_test/reset)."""
        with session_scope(self.engine, write=True) as session:
            for table in (SagaStep, OutboxEvent, Saga, Order):
                session.execute(delete(table))


def _event_row(order: Order, now: Any) -> OutboxEvent:
    event_type = "order.confirmed" if order.status == OrderStatus.CONFIRMED else "order.cancelled"
    return OutboxEvent(
        event_id=str(uuid.uuid4()),
        type=event_type,
        order_id=order.id,
        payload={
            "user_id": order.user_id,
            "total_cents": order.total_cents,
            "items": order.items,
            "reason": order.reason,
        },
        occurred_at=now,
        status=OutboxStatus.PENDING,
        attempts=0,
    )
