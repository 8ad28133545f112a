"""Stock moves, each in one short write transaction: reserve, confirm, cancel, void a key.

Every change of stock is a conditional UPDATE, so concurrent requests can never drive stock
negative nor release a reservation twice, on SQLite (one writer at a time) as on PostgreSQL
(row locks).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.common.db import session_scope, utc_now
from shop.common.errors import Conflict, NotFound
from shop.inventory.models import ProductRow, ReservationItemRow, ReservationRow, ReserveKeyRow
from shop.inventory.schemas import Reservation, ReservationCreate


def reserve(engine: Engine, *, key: str, request: ReservationCreate) -> tuple[Reservation, bool]:
    """(reservation, created). Replays by key; another body under the same key is a 409."""
    digest = request.digest()
    try:
        with session_scope(engine, write=True) as session:
            existing = _by_key(session, key)
            if existing is not None:
                return _replay(existing, digest), False
            claim = session.get(ReserveKeyRow, key)
            if claim is not None and claim.voided:
                raise _voided()
            for item in request.items:
                _take_stock(session, item.sku, item.quantity)
            now = utc_now()
            if claim is None:  # (a claim without its reservation is a test reset's leftover)
                session.add(ReserveKeyRow(idempotency_key=key, voided=False, claimed_at=now))
            row = ReservationRow(
                order_id=request.order_id,
                status="held",
                idempotency_key=key,
                request_digest=digest,
                created_at=now,
                updated_at=now,
                items=[ReservationItemRow(sku=i.sku, quantity=i.quantity) for i in request.items],
            )
            session.add(row)
            session.flush()
            return Reservation.model_validate(row), True
    except IntegrityError:
        # A concurrent reserve or void of the same key committed first (possible on
        # PostgreSQL); this transaction rolled back, stock included: answer as it decided.
        with session_scope(engine) as session:
            existing = _by_key(session, key)
            if existing is not None:
                return _replay(existing, digest), False
            if _is_void(session, key):
                raise _voided() from None
            raise


def void_key(engine: Engine, *, key: str) -> Reservation | None:
    """The reservation made under the key; or None, the key now void. Idempotent.

    For a caller that lost a reserve answer: a look-up could find nothing while the request
    still waits in front of this service, and reserve after the caller gave up. Void and
    reserve both claim the key in `reserve_keys`: whichever commits first wins.
    """
    try:
        with session_scope(engine, write=True) as session:
            existing = _by_key(session, key)
            if existing is not None:
                return Reservation.model_validate(existing)
            claim = session.get(ReserveKeyRow, key)
            if claim is not None:
                claim.voided = True  # void already, or a test reset's leftover
            else:
                session.add(ReserveKeyRow(idempotency_key=key, voided=True, claimed_at=utc_now()))
            return None
    except IntegrityError:
        # A concurrent reserve (or void) of the key committed first.
        with session_scope(engine) as session:
            existing = _by_key(session, key)
            if existing is not None:
                return Reservation.model_validate(existing)
            if not _is_void(session, key):
                raise
            return None


def confirm(engine: Engine, reservation_id: int) -> Reservation:
    """held -> confirmed: the held units leave `reserved` for good. Idempotent."""
    return _settle(engine, reservation_id, target="confirmed", forbidden="cancelled")


def cancel(engine: Engine, reservation_id: int) -> Reservation:
    """held -> cancelled: the held units go back to `stock`, exactly once. Idempotent."""
    return _settle(engine, reservation_id, target="cancelled", forbidden="confirmed")


def _settle(engine: Engine, reservation_id: int, *, target: str, forbidden: str) -> Reservation:
    with session_scope(engine, write=True) as session:
        moved = _execute(
            session,
            update(ReservationRow)
            .where(ReservationRow.id == reservation_id, ReservationRow.status == "held")
            .values(status=target, updated_at=utc_now()),
        )
        row = session.get(ReservationRow, reservation_id, populate_existing=True)
        if row is None:
            raise NotFound(f"reservation {reservation_id} not found")
        if moved:
            for item in row.items:
                _release_held(session, item.sku, item.quantity, back_to_stock=target == "cancelled")
        elif row.status == forbidden:
            raise Conflict(
                f"reservation {reservation_id} is {forbidden}", error=f"reservation_{forbidden}"
            )
        return Reservation.model_validate(row)


def _take_stock(session: Session, sku: str, quantity: int) -> None:
    taken = _execute(
        session,
        update(ProductRow)
        .where(ProductRow.sku == sku, ProductRow.stock >= quantity)
        .values(stock=ProductRow.stock - quantity, reserved=ProductRow.reserved + quantity),
    )
    if taken:
        return
    available = session.scalar(select(ProductRow.stock).where(ProductRow.sku == sku))
    if available is None:
        raise NotFound(f"product {sku} not found")
    raise Conflict(
        f"not enough stock for {sku}: {quantity} requested, {available} available",
        error="insufficient_stock",
        extra={"sku": sku, "requested": quantity, "available": available},
    )


def _release_held(session: Session, sku: str, quantity: int, *, back_to_stock: bool) -> None:
    values: dict[str, Any] = {"reserved": ProductRow.reserved - quantity}
    if back_to_stock:
        values["stock"] = ProductRow.stock + quantity
    _execute(session, update(ProductRow).where(ProductRow.sku == sku).values(**values))


def _execute(session: Session, statement: Any) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


def _voided() -> Conflict:
    return Conflict(
        "this Idempotency-Key was voided by its caller: nothing can be reserved with it",
        error="idempotency_key_voided",
    )


def _is_void(session: Session, key: str) -> bool:
    claim = session.get(ReserveKeyRow, key)
    return claim is not None and claim.voided


def _by_key(session: Session, key: str) -> ReservationRow | None:
    return session.scalar(select(ReservationRow).where(ReservationRow.idempotency_key == key))


def _replay(row: ReservationRow, digest: str) -> Reservation:
    if row.request_digest != digest:
        raise Conflict(
            "this Idempotency-Key was used with another body", error="idempotency_key_reused"
        )
    return Reservation.model_validate(row)
