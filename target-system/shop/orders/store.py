"""Persistence for orders, sagas, the saga log and the outbox: one short transaction each.

The saga calls `record` after every step (and before every remote call whose outcome it
must be able to find again after a crash), so the database always says how far it got.
`finish` writes the order's final status, the saga's end and the order's event in ONE
transaction: that is the outbox pattern (with the outbox off, the event is returned for a
direct, unsafe send instead of being stored).

The calls an order makes (create, record, finish, the reads around them) use SQLAlchemy Core
statements built once, not the ORM's unit of work: they run on the service's event loop, a
dozen per order, and through the ORM each took 2 to 4 times the CPU, which made the loop the
bottleneck under concurrent orders (bench/orders_concurrency.py). They still return the mapped
classes (detached, not bound to a session), so callers read `saga.state` as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shop.common.db import session_scope, utc_now, write_engine
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

# Statements built once (their compiled form is cached by SQLAlchemy). An UPDATE without
# `.values()` sets the columns named by the parameters it is executed with.
_ORDERS = Base.metadata.tables[Order.__tablename__]
_SAGAS = Base.metadata.tables[Saga.__tablename__]
_STEPS = Base.metadata.tables[SagaStep.__tablename__]
_OUTBOX = Base.metadata.tables[OutboxEvent.__tablename__]
_ORDER_BY_ID = select(_ORDERS).where(_ORDERS.c.id == bindparam("_id"))
_ORDER_BY_KEY = select(_ORDERS).where(_ORDERS.c.idempotency_key == bindparam("_key"))
_SAGA_BY_ID = select(_SAGAS).where(_SAGAS.c.id == bindparam("_id"))
_SAGA_BY_ORDER = select(_SAGAS).where(_SAGAS.c.order_id == bindparam("_order_id"))
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("_id"))
_UPDATE_SAGA = update(_SAGAS).where(_SAGAS.c.id == bindparam("_id"))
_INSERT_ORDER, _INSERT_SAGA, _INSERT_STEP, _INSERT_EVENT = (
    insert(_ORDERS),
    insert(_SAGAS),
    insert(_STEPS),
    insert(_OUTBOX),
)
_COUNT_IN_FLIGHT = (
    select(func.count()).select_from(_SAGAS).where(_SAGAS.c.state.in_(IN_FLIGHT_STATES))
)
_BACKLOG = select(func.count()).select_from(_OUTBOX).where(_OUTBOX.c.status == OutboxStatus.PENDING)
_MARK_EVENT = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("_id")).values(attempts=_OUTBOX.c.attempts + 1)
)


class SagaStore:
    """All database access of the orders service. Keyword-only: `outbox_enabled` (True)."""

    def __init__(self, engine: Engine, *, outbox_enabled: bool = True) -> None:
        self.engine = engine
        self.outbox_enabled = outbox_enabled
        self._writer = write_engine(engine)

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
            with self._writer.begin() as connection:
                order_id = _insert(
                    connection,
                    _INSERT_ORDER,
                    {
                        "user_id": user_id,
                        "items": items,
                        "total_cents": total_cents,
                        "status": OrderStatus.PENDING,
                        "idempotency_key": idempotency_key,
                        "request_fingerprint": fingerprint,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                saga_id = _insert(
                    connection,
                    _INSERT_SAGA,
                    {
                        "uid": uuid.uuid4().hex,
                        "order_id": order_id,
                        "state": SagaState.RUNNING,
                        "step": Step.VALIDATE_USER,
                        "card_token": card_token,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                _log(connection, saga_id, Step.VALIDATE_USER, "success", None, now)
                return _order(connection, order_id), _saga(connection, saga_id)
        except IntegrityError as exc:
            raise DuplicateOrderKey(idempotency_key) from exc

    def find_order_by_key(self, idempotency_key: str) -> Order | None:
        with self.engine.connect() as connection:
            row = connection.execute(_ORDER_BY_KEY, {"_key": idempotency_key}).one_or_none()
        return None if row is None else Order(**row._mapping)

    def get_order(self, order_id: int) -> Order | None:
        with self.engine.connect() as connection:
            row = connection.execute(_ORDER_BY_ID, {"_id": order_id}).one_or_none()
        return None if row is None else Order(**row._mapping)

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
        with self.engine.connect() as connection:
            row = connection.execute(_SAGA_BY_ID, {"_id": saga_id}).one_or_none()
        return None if row is None else Saga(**row._mapping)

    def saga_for_order(self, order_id: int) -> Saga | None:
        with self.engine.connect() as connection:
            row = connection.execute(_SAGA_BY_ORDER, {"_order_id": order_id}).one_or_none()
        return None if row is None else Saga(**row._mapping)

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
        with self.engine.connect() as connection:
            return connection.execute(_COUNT_IN_FLIGHT).scalar_one()

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
        with self._writer.begin() as connection:
            connection.execute(_UPDATE_SAGA, {"_id": saga_id, **changes, "updated_at": now})
            saga = _saga(connection, saga_id)
            mirrored = {k: changes[k] for k in _MIRRORED_ON_ORDER if k in changes}
            if mirrored:
                connection.execute(
                    _UPDATE_ORDER, {"_id": saga.order_id, **mirrored, "updated_at": now}
                )
            _log(connection, saga_id, log_step, outcome, detail, now)
        return saga

    def finish(
        self, saga_id: int, *, state: SagaState, order_status: OrderStatus, reason: str | None
    ) -> Finished:
        """End the saga, set the order's final status and write its event: one transaction."""
        step = Step.CONFIRM_ORDER if order_status is OrderStatus.CONFIRMED else Step.CANCEL_ORDER
        now = utc_now()
        with self._writer.begin() as connection:
            saga = _saga(connection, saga_id)
            order = _order(connection, saga.order_id)
            if saga.state not in IN_FLIGHT_STATES:
                # Finished before (a twin task): never a second event for the same order.
                return Finished(saga, order, None)
            saga_changes: dict[str, Any] = {"state": state, "updated_at": now}
            if order_status is OrderStatus.CONFIRMED:
                saga_changes["step"] = step
            connection.execute(_UPDATE_SAGA, {"_id": saga_id, **saga_changes})
            order_changes = {"status": order_status, "reason": reason, "updated_at": now}
            connection.execute(_UPDATE_ORDER, {"_id": order.id, **order_changes})
            _log(connection, saga_id, step, "success", None, now)
            _apply(saga, saga_changes)
            _apply(order, order_changes)
            event = _event_row(order, now)
            if self.outbox_enabled:
                connection.execute(_INSERT_EVENT, _event_values(event))
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
        delivered_at = utc_now() if status is OutboxStatus.SENT else None
        with self._writer.begin() as connection:
            connection.execute(
                _MARK_EVENT,
                {"_id": event_row_id, "status": status, "delivered_at": delivered_at},
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
        with self.engine.connect() as connection:
            return connection.execute(_BACKLOG).scalar_one()

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


# -- Core helpers: rows in, detached mapped objects out -------------------------------------


def _insert(connection: Connection, statement: Insert, values: Mapping[str, Any]) -> int:
    """Run an INSERT; the new row's id."""
    key = connection.execute(statement, dict(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _saga(connection: Connection, saga_id: int) -> Saga:
    return Saga(**connection.execute(_SAGA_BY_ID, {"_id": saga_id}).one()._mapping)


def _order(connection: Connection, order_id: int) -> Order:
    return Order(**connection.execute(_ORDER_BY_ID, {"_id": order_id}).one()._mapping)


def _log(
    connection: Connection,
    saga_id: int,
    step: str,
    outcome: str,
    detail: str | None,
    at: datetime,
) -> None:
    connection.execute(
        _INSERT_STEP,
        {"saga_id": saga_id, "step": step, "outcome": outcome, "detail": detail, "at": at},
    )


def _apply(target: Saga | Order, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(target, name, value)


def _event_values(event: OutboxEvent) -> dict[str, Any]:
    return {
        column.key: getattr(event, column.key) for column in _OUTBOX.columns if column.key != "id"
    }
