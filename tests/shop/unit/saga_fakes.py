"""In-memory users, inventory, payments and notifications behind the saga's ports.

They follow the README's rules (idempotency keys, stock, refunds) and take scripted faults:
`fail_next(op, fault)` breaks the next call of `op`; `take_down(op)` breaks every call until
`heal()`. A fault either stops the call before it has any effect (`unavailable()`) or lets
it happen and loses the answer (`lost_answer()`, a read timeout after the server acted).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shop.common.db import make_engine
from shop.common.errors import DependencyUnavailable
from shop.orders.models import Order, Saga
from shop.orders.ports import LineItem, PaymentRecord, Refused, Reservation, SagaPorts
from shop.orders.saga import SagaOptions, SagaRunner
from shop.orders.store import SagaStore
from sqlalchemy import Engine

T = TypeVar("T")


@dataclass(frozen=True)
class Fault:
    error: Exception
    after_effect: bool = False


def unavailable(dependency: str) -> Fault:
    """The request never reached the dependency (connection refused)."""
    return Fault(DependencyUnavailable(dependency, "connect_error", outcome_unknown=False))


def lost_answer(dependency: str) -> Fault:
    """The dependency acted, then the answer was lost (read timeout)."""
    return Fault(
        DependencyUnavailable(dependency, "timeout", outcome_unknown=True), after_effect=True
    )


def lost_then_refused(dependency: str) -> Fault:
    """A retried call: the first attempt acted and lost its answer, the last was refused,
    and the client reports only the last (outcome_unknown=False)."""
    return Fault(
        DependencyUnavailable(dependency, "connect_error", outcome_unknown=False),
        after_effect=True,
    )


def refused(dependency: str, status: int, error: str) -> Fault:
    return Fault(Refused(dependency, status, error))


class Scripted:
    name = "dependency"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._next: dict[str, deque[Fault]] = defaultdict(deque)
        self._down: dict[str, Fault] = {}
        # Set to make every call of an op block until released (a process "dies" meanwhile),
        # before its effect, or after it for the ops in `block_after_effect`.
        self.blockers: dict[str, asyncio.Event] = {}
        self.block_after_effect: set[str] = set()
        self.reached: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def fail_next(self, op: str, *faults: Fault) -> None:
        self._next[op].extend(faults)

    def take_down(self, op: str, fault: Fault | None = None) -> None:
        self._down[op] = fault or unavailable(self.name)

    def heal(self) -> None:
        self._down.clear()
        self._next.clear()

    async def _call(self, op: str, effect: Callable[[], T]) -> T:
        self.calls.append(op)
        block_after = op in self.block_after_effect
        fault = self._down.get(op) or (self._next[op].popleft() if self._next[op] else None)
        if fault is not None and not fault.after_effect:
            raise fault.error
        if not block_after:
            await self._maybe_block(op)
        result = effect()
        if block_after:
            await self._maybe_block(op)
        if fault is not None:
            raise fault.error
        return result

    async def _maybe_block(self, op: str) -> None:
        self.reached[op].set()
        blocker = self.blockers.get(op)
        if blocker is not None:
            await blocker.wait()


class FakeUsers(Scripted):
    name = "users"

    def __init__(self, *user_ids: int) -> None:
        super().__init__()
        self.user_ids = set(user_ids)

    async def user_exists(self, user_id: int) -> bool:
        return await self._call("get_user", lambda: user_id in self.user_ids)


@dataclass
class StoredReservation:
    id: int
    order_id: int
    items: list[LineItem]
    status: str = "held"

    def record(self) -> Reservation:
        return Reservation(id=self.id, order_id=self.order_id, status=self.status)


class FakeInventory(Scripted):
    name = "inventory"

    def __init__(self, stock: dict[str, int], prices: dict[str, int] | None = None) -> None:
        super().__init__()
        self.stock = dict(stock)
        self.initial = dict(stock)
        self.prices = prices or dict.fromkeys(stock, 100)
        self.reservations: dict[int, StoredReservation] = {}
        self.by_key: dict[str, int] = {}
        self.voided: set[str] = set()

    async def product_price(self, sku: str) -> int | None:
        return await self._call("get_product", lambda: self.prices.get(sku))

    async def reserve(
        self, *, order_id: int, items: list[LineItem], idempotency_key: str
    ) -> Reservation:
        def effect() -> Reservation:
            if idempotency_key in self.by_key:
                return self.reservations[self.by_key[idempotency_key]].record()
            if idempotency_key in self.voided:
                raise Refused("inventory", 409, "idempotency_key_voided")
            for item in items:
                if item.sku not in self.stock:
                    raise Refused("inventory", 404, "not_found", item.sku)
                if self.stock[item.sku] < item.quantity:
                    raise Refused("inventory", 409, "insufficient_stock", item.sku)
            for item in items:
                self.stock[item.sku] -= item.quantity
            reservation = StoredReservation(len(self.reservations) + 1, order_id, list(items))
            self.reservations[reservation.id] = reservation
            self.by_key[idempotency_key] = reservation.id
            return reservation.record()

        return await self._call("reserve", effect)

    async def confirm(self, reservation_id: int, *, idempotency_key: str) -> Reservation:
        def effect() -> Reservation:
            reservation = self._get(reservation_id)
            if reservation.status == "cancelled":
                raise Refused("inventory", 409, "conflict", "cancelled")
            reservation.status = "confirmed"
            return reservation.record()

        return await self._call("confirm", effect)

    async def cancel(self, reservation_id: int, *, idempotency_key: str) -> Reservation:
        def effect() -> Reservation:
            reservation = self._get(reservation_id)
            if reservation.status == "confirmed":
                raise Refused("inventory", 409, "conflict", "confirmed")
            if reservation.status == "held":
                for item in reservation.items:
                    self.stock[item.sku] += item.quantity
                reservation.status = "cancelled"
            return reservation.record()

        return await self._call("cancel", effect)

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        def effect() -> Reservation | None:
            found = self.reservations.get(reservation_id)
            return found.record() if found else None

        return await self._call("get_reservation", effect)

    async def void_unless_reserved(self, idempotency_key: str) -> Reservation | None:
        def effect() -> Reservation | None:
            if idempotency_key in self.by_key:
                return self.reservations[self.by_key[idempotency_key]].record()
            self.voided.add(idempotency_key)
            return None

        return await self._call("void_reservation_key", effect)

    def _get(self, reservation_id: int) -> StoredReservation:
        if reservation_id not in self.reservations:
            raise Refused("inventory", 404, "not_found", str(reservation_id))
        return self.reservations[reservation_id]

    def held(self) -> list[StoredReservation]:
        return [r for r in self.reservations.values() if r.status == "held"]


@dataclass
class StoredPayment:
    id: int
    order_id: int
    amount_cents: int
    status: str
    key: str


class FakePayments(Scripted):
    name = "payments"

    def __init__(self) -> None:
        super().__init__()
        self.payments: dict[int, StoredPayment] = {}
        self.by_key: dict[str, int] = {}
        self.voided: set[str] = set()
        self.refund_calls = 0

    async def charge(
        self,
        *,
        order_id: int,
        amount_cents: int,
        currency: str,
        card_token: str,
        idempotency_key: str,
    ) -> PaymentRecord:
        def effect() -> PaymentRecord:
            if idempotency_key in self.voided:
                raise Refused("payments", 409, "idempotency_key_voided")
            if idempotency_key not in self.by_key:
                status = "declined" if card_token == "tok_declined" else "captured"
                payment = StoredPayment(
                    len(self.payments) + 1, order_id, amount_cents, status, idempotency_key
                )
                self.payments[payment.id] = payment
                self.by_key[idempotency_key] = payment.id
            payment = self.payments[self.by_key[idempotency_key]]
            if payment.status == "declined":
                raise Refused("payments", 402, "card_declined")
            return PaymentRecord(payment.id, payment.status)

        return await self._call("charge", effect)

    async def refund(self, payment_id: int, *, idempotency_key: str) -> PaymentRecord:
        def effect() -> PaymentRecord:
            payment = self.payments.get(payment_id)
            if payment is None:
                raise Refused("payments", 404, "not_found")
            if payment.status == "declined":
                raise Refused("payments", 409, "payment_declined")
            if payment.status == "captured":
                self.refund_calls += 1
            payment.status = "refunded"
            return PaymentRecord(payment.id, payment.status)

        return await self._call("refund", effect)

    async def void_unless_charged(self, idempotency_key: str) -> PaymentRecord | None:
        def effect() -> PaymentRecord | None:
            payment_id = self.by_key.get(idempotency_key)
            if payment_id is None:
                self.voided.add(idempotency_key)
                return None
            return PaymentRecord(payment_id, self.payments[payment_id].status)

        return await self._call("void_key", effect)

    def for_order(self, order_id: int, status: str | None = None) -> list[StoredPayment]:
        return [
            p
            for p in self.payments.values()
            if p.order_id == order_id and (status is None or p.status == status)
        ]


class FakeEvents(Scripted):
    name = "notifications"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    async def publish(self, event: dict[str, Any]) -> None:
        def effect() -> None:
            self.received.append(event)
            self.seen.add(event["event_id"])

        await self._call("publish", effect)

    def notified(self, order_id: int) -> list[str]:
        """Event types for the order, once per event id (as notifications dedupes)."""
        unique = {e["event_id"]: e for e in self.received if e["order_id"] == order_id}
        return [e["type"] for e in unique.values()]


@dataclass
class SagaWorld:
    """A saga runner over fakes and an in-memory database."""

    users: FakeUsers = field(default_factory=lambda: FakeUsers(1))
    inventory: FakeInventory = field(
        default_factory=lambda: FakeInventory(
            {"SKU-1": 10, "SKU-2": 5}, {"SKU-1": 250, "SKU-2": 1000}
        )
    )
    payments: FakePayments = field(default_factory=FakePayments)
    events: FakeEvents = field(default_factory=FakeEvents)
    options: SagaOptions = field(default_factory=SagaOptions)
    outbox_enabled: bool = True
    engine: Engine = field(default_factory=lambda: make_engine("sqlite://"))

    def __post_init__(self) -> None:
        self.store = SagaStore(self.engine, outbox_enabled=self.outbox_enabled)
        self.store.create_tables()
        self.runner = self.new_runner()

    def ports(self) -> SagaPorts:
        return SagaPorts(
            users=self.users, inventory=self.inventory, payments=self.payments, events=self.events
        )

    def new_runner(self) -> SagaRunner:
        """A runner as a restarted process would build it (same database, fresh memory)."""
        return SagaRunner(store=self.store, ports=self.ports(), options=self.options)

    def new_saga(
        self,
        *,
        items: list[tuple[str, int]] | None = None,
        card_token: str = "tok_visa",
        key: str = "order-key",
    ) -> tuple[Order, Saga]:
        lines = [{"sku": sku, "quantity": qty} for sku, qty in (items or [("SKU-1", 2)])]
        total = sum(self.inventory.prices[line["sku"]] * line["quantity"] for line in lines)
        return self.store.create(
            idempotency_key=key,
            fingerprint="f" * 64,
            user_id=1,
            items=lines,
            total_cents=total,
            card_token=card_token,
        )

    def order(self, order_id: int) -> Order:
        order = self.store.get_order(order_id)
        assert order is not None
        return order

    def saga(self, saga_id: int) -> Saga:
        saga = self.store.get_saga(saga_id)
        assert saga is not None
        return saga

    def log(self, saga_id: int) -> list[tuple[str, str]]:
        return [(s.step, s.outcome) for s in self.store.saga_log(saga_id)]

    def outbox_types(self, order_id: int) -> list[str]:
        return [e.type for e in self.store.events_for_order(order_id)]

    def stock_is_whole(self) -> bool:
        """README invariant 4: stock + held + confirmed == initial stock, for every sku."""
        for sku, initial in self.inventory.initial.items():
            taken = sum(
                item.quantity
                for r in self.inventory.reservations.values()
                if r.status in ("held", "confirmed")
                for item in r.items
                if item.sku == sku
            )
            if self.inventory.stock[sku] + taken != initial:
                return False
        return True
