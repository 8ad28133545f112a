"""The saga's ports over `ResilientClient`: thin, typed, and strict about what comes back.

Each method maps the dependency's answers onto the port: the expected 2xx becomes a typed
value, a 4xx becomes `Refused` carrying the dependency's error code, and a body that does
not parse becomes `Refused(..., "unexpected_response")`. `DependencyUnavailable` from the
client passes through.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from shop.common.client import ResilientClient
from shop.orders.ports import LineItem, PaymentRecord, Refused, Reservation

ModelT = TypeVar("ModelT", bound=BaseModel)


class _Remote(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Product(_Remote):
    sku: str
    price_cents: int


class _Reservation(_Remote):
    id: int
    order_id: int
    status: str

    def record(self) -> Reservation:
        return Reservation(id=self.id, order_id=self.order_id, status=self.status)


class _Payment(_Remote):
    id: int
    status: str

    def record(self) -> PaymentRecord:
        return PaymentRecord(id=self.id, status=self.status)


class _Void(_Remote):
    payment: _Payment | None


class _ReservationVoid(_Remote):
    reservation: _Reservation | None


def _refused(dependency: str, response: httpx.Response) -> Refused:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    return Refused(
        dependency,
        response.status_code,
        error if isinstance(error, str) else f"http_{response.status_code}",
        detail if isinstance(detail, str) else response.text[:200],
    )


def _parse(dependency: str, response: httpx.Response, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise Refused(
            dependency, response.status_code, "unexpected_response", str(exc)[:200]
        ) from exc


def _expect(dependency: str, response: httpx.Response, model: type[ModelT]) -> ModelT:
    if response.status_code not in (200, 201):
        raise _refused(dependency, response)
    return _parse(dependency, response, model)


class UsersClient:
    def __init__(self, client: ResilientClient) -> None:
        self._client = client

    async def user_exists(self, user_id: int) -> bool:
        response = await self._client.get(f"/users/{user_id}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise _refused("users", response)
        return True


class InventoryClient:
    def __init__(self, client: ResilientClient) -> None:
        self._client = client

    async def product_price(self, sku: str) -> int | None:
        response = await self._client.get(f"/products/{sku}")
        if response.status_code == 404:
            return None
        return _expect("inventory", response, _Product).price_cents

    async def reserve(
        self, *, order_id: int, items: list[LineItem], idempotency_key: str
    ) -> Reservation:
        response = await self._client.post(
            "/reservations",
            json={"order_id": order_id, "items": [item.to_json() for item in items]},
            idempotency_key=idempotency_key,
        )
        return _expect("inventory", response, _Reservation).record()

    async def confirm(self, reservation_id: int, *, idempotency_key: str) -> Reservation:
        response = await self._client.post(
            f"/reservations/{reservation_id}/confirm", idempotency_key=idempotency_key
        )
        return _expect("inventory", response, _Reservation).record()

    async def cancel(self, reservation_id: int, *, idempotency_key: str) -> Reservation:
        response = await self._client.post(
            f"/reservations/{reservation_id}/cancel", idempotency_key=idempotency_key
        )
        return _expect("inventory", response, _Reservation).record()

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        response = await self._client.get(f"/reservations/{reservation_id}")
        if response.status_code == 404:
            return None
        return _expect("inventory", response, _Reservation).record()

    async def void_unless_reserved(self, idempotency_key: str) -> Reservation | None:
        # Keyed by the key it settles: voiding is idempotent, so the client may retry it.
        response = await self._client.post(
            "/reservation-voids",
            json={"idempotency_key": idempotency_key},
            idempotency_key=f"void-{idempotency_key}"[:200],
        )
        settled = _expect("inventory", response, _ReservationVoid)
        return None if settled.reservation is None else settled.reservation.record()


class PaymentsClient:
    def __init__(self, client: ResilientClient) -> None:
        self._client = client

    async def charge(
        self,
        *,
        order_id: int,
        amount_cents: int,
        currency: str,
        card_token: str,
        idempotency_key: str,
    ) -> PaymentRecord:
        response = await self._client.post(
            "/payments",
            json={
                "order_id": order_id,
                "amount_cents": amount_cents,
                "currency": currency,
                "card_token": card_token,
            },
            idempotency_key=idempotency_key,
        )
        return _expect("payments", response, _Payment).record()

    async def refund(self, payment_id: int, *, idempotency_key: str) -> PaymentRecord:
        response = await self._client.post(
            f"/payments/{payment_id}/refund", idempotency_key=idempotency_key
        )
        return _expect("payments", response, _Payment).record()

    async def void_unless_charged(self, idempotency_key: str) -> PaymentRecord | None:
        # Keyed by the key it settles: voiding is idempotent, so the client may retry it.
        response = await self._client.post(
            "/payment-voids",
            json={"idempotency_key": idempotency_key},
            idempotency_key=f"void-{idempotency_key}"[:200],
        )
        settled = _expect("payments", response, _Void)
        return None if settled.payment is None else settled.payment.record()


class NotificationsClient:
    def __init__(self, client: ResilientClient) -> None:
        self._client = client

    async def publish(self, event: dict[str, Any]) -> None:
        # Keyed by the event id, so the client may retry: notifications dedupes by it.
        response = await self._client.post(
            "/events", json=event, idempotency_key=str(event["event_id"])
        )
        if response.status_code not in (200, 202):
            raise _refused("notifications", response)
