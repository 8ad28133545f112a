"""What the saga needs from other services, as protocols (the seams its tests plug fakes into).

Every method may raise `shop.common.errors.DependencyUnavailable` (breaker open, timeout,
refused, 5xx...). A 4xx answer that is a business outcome (stock short, card declined, ...)
raises `Refused` with the dependency's error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Refused(Exception):
    """A dependency answered 4xx (or something unreadable): the request will not succeed as is."""

    def __init__(self, dependency: str, status_code: int, error: str, detail: str = "") -> None:
        super().__init__(f"{dependency} answered {status_code} {error}: {detail}")
        self.dependency = dependency
        self.status_code = status_code
        self.error = error
        self.detail = detail


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    order_id: int
    status: str  # held | confirmed | cancelled


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    status: str  # captured | declined | refunded


class UsersPort(Protocol):
    async def user_exists(self, user_id: int) -> bool: ...


class InventoryPort(Protocol):
    async def product_price(self, sku: str) -> int | None:
        """Unit price in cents, or None for an unknown sku."""
        ...

    async def reserve(
        self, *, order_id: int, items: list[LineItem], idempotency_key: str
    ) -> Reservation: ...

    async def confirm(self, reservation_id: int, *, idempotency_key: str) -> Reservation: ...

    async def cancel(self, reservation_id: int, *, idempotency_key: str) -> Reservation: ...

    async def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    async def void_unless_reserved(self, idempotency_key: str) -> Reservation | None:
        """The reservation made under the key, or None: there is none, and inventory now
        refuses any reservation under the key, so one still on its way never holds stock."""
        ...


class PaymentsPort(Protocol):
    async def charge(
        self,
        *,
        order_id: int,
        amount_cents: int,
        currency: str,
        card_token: str,
        idempotency_key: str,
    ) -> PaymentRecord:
        """The captured payment; a declined card raises `Refused(..., 402, "card_declined")`."""
        ...

    async def refund(self, payment_id: int, *, idempotency_key: str) -> PaymentRecord: ...

    async def void_unless_charged(self, idempotency_key: str) -> PaymentRecord | None:
        """The charge made under the key, or None: there is none, and payments now refuses
        any charge under the key, so one still on its way can never commit."""
        ...


class EventsPort(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class SagaPorts:
    users: UsersPort
    inventory: InventoryPort
    payments: PaymentsPort
    events: EventsPort
