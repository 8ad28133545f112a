"""POST /orders without HTTP: idempotency by key, validation, pricing, then the saga.

The user and the prices are checked before anything is written: an unknown user or sku is a
422 and touches nothing (no order, no reservation, no charge). A replay (same key, same
body) answers what the saga has come to, exactly as the first answer would have (a failure
is its 4xx/5xx with the order, never a 200 success): it drives the saga on if no task does
and waits for it briefly first. The same key with another body is a 409.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from shop.common import metrics
from shop.common.errors import DO_NOT_RETRY_HEADER, ApiError, Conflict
from shop.orders.models import IN_FLIGHT_STATES, Order, Saga, SagaState, Step
from shop.orders.ports import Refused, SagaPorts
from shop.orders.saga import SagaRunner
from shop.orders.schemas import MAX_TOTAL_CENTS, OrderRequest
from shop.orders.store import DuplicateOrderKey, SagaStore

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class PlacementAnswer:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(request: OrderRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


class OrderPlacement:
    """Keyword-only: `store`, `runner`, `ports`, `answer_within` (4.0 s: how long after the
    request arrived POST /orders answers, whether or not its saga ended; a replay waits for
    the original request's saga within the same budget)."""

    def __init__(
        self,
        *,
        store: SagaStore,
        runner: SagaRunner,
        ports: SagaPorts,
        answer_within: float = 4.0,
    ) -> None:
        self.store = store
        self.runner = runner
        self.ports = ports
        self.answer_within = answer_within

    async def place(self, *, idempotency_key: str, request: OrderRequest) -> PlacementAnswer:
        deadline = asyncio.get_running_loop().time() + self.answer_within
        request_fingerprint = fingerprint(request)
        existing = self.store.find_order_by_key(idempotency_key)
        if existing is not None:
            return await self._replay(existing, request_fingerprint, deadline=deadline)
        total = await self._validate_and_price(request)
        try:
            _order, saga = self.store.create(
                idempotency_key=idempotency_key,
                fingerprint=request_fingerprint,
                user_id=request.user_id,
                items=[item.model_dump() for item in request.items],
                total_cents=total,
                card_token=request.card_token,
            )
        except DuplicateOrderKey:
            twin = self.store.find_order_by_key(idempotency_key)
            if twin is None:
                raise
            return await self._replay(twin, request_fingerprint, deadline=deadline)
        # No await between the commit above and start(): the retry pass never sees it idle.
        self.runner.start(saga.id)
        self.runner.refresh_in_flight_gauge()
        # The saga goes on after the deadline (the runner owns its task); the answer then
        # says it is in progress.
        await self.runner.wait(saga.id, at_most=_left(deadline))
        return self.answer_for(self.store.get_saga(saga.id) or saga)

    async def _validate_and_price(self, request: OrderRequest) -> int:
        try:
            if not await self.ports.users.user_exists(request.user_id):
                _count_validation("failure")
                raise ApiError(422, "unknown_user", f"user {request.user_id} does not exist")
            _count_validation("success")
            total = 0
            for item in request.items:
                price = await self.ports.inventory.product_price(item.sku)
                if price is None:
                    raise ApiError(422, "unknown_product", f"product {item.sku} does not exist")
                total += price * item.quantity
        except Refused as exc:
            raise ApiError(
                502, "dependency_error", str(exc), extra={"dependency": exc.dependency}
            ) from exc
        if not 1 <= total <= MAX_TOTAL_CENTS:
            raise ApiError(
                422,
                "invalid_order_total",
                f"the order total must be 1..{MAX_TOTAL_CENTS} cents (it is {total})",
            )
        return total

    async def _replay(
        self, order: Order, request_fingerprint: str, *, deadline: float
    ) -> PlacementAnswer:
        if order.request_fingerprint != request_fingerprint:
            raise Conflict(
                "this Idempotency-Key was used with another request body",
                error="idempotency_key_reused",
            )
        saga = self.store.saga_for_order(order.id)
        if saga is None:  # not expected: order and saga are written together
            raise LookupError(f"order {order.id} has no saga")
        if saga.state in IN_FLIGHT_STATES:
            # Resumed if nothing drives it (a restart, a compensation waiting for its retry).
            self.runner.start(saga.id)
            await self.runner.wait(saga.id, at_most=_left(deadline))
        current = self.store.get_saga(saga.id) or saga
        return self.answer_for(current, replayed=True)

    def answer_for(self, saga: Saga, *, replayed: bool = False) -> PlacementAnswer:
        """The answer to POST /orders once the saga went as far as it could (a replay: 200
        for a success, the same failure for a failure, with `Idempotent-Replayed`)."""
        answer = self._answer_for(saga)
        if not replayed:
            return answer
        status = 200 if answer.status_code == 201 else answer.status_code
        return PlacementAnswer(status, answer.body, {**answer.headers, REPLAYED_HEADER: "true"})

    def _answer_for(self, saga: Saga) -> PlacementAnswer:
        order = self.store.get_order(saga.order_id)
        assert order is not None
        if saga.state == SagaState.COMPLETED:
            return PlacementAnswer(201, order.to_json())
        if saga.failure_status is None:
            body = ApiError(503, "saga_in_progress", "the order is still being processed").body()
            # Its answer budget is spent and the saga goes on: a retry on top would only
            # wait again; the same key later gives the outcome.
            headers = {DO_NOT_RETRY_HEADER: "in-progress"}
            return PlacementAnswer(503, {**body, "order": order.to_json()}, headers)
        # From here: compensated, or compensating / failed / paused (the order still pending).
        extra: dict[str, Any] = {"order": order.to_json()}
        if saga.failure_dependency is not None:
            extra["dependency"] = saga.failure_dependency
        error = ApiError(
            saga.failure_status,
            saga.failure_error or "order_failed",
            saga.failure_detail,
            extra=extra,
        )
        # A dependency still unavailable after the saga's own retries: the caller must not
        # retry on top (its replay would drive the saga's retries once more).
        headers = (
            {DO_NOT_RETRY_HEADER: "dependency-unavailable"} if saga.failure_status == 503 else {}
        )
        return PlacementAnswer(saga.failure_status, error.body(), headers)


def _left(deadline: float) -> float:
    return max(0.0, deadline - asyncio.get_running_loop().time())


def _count_validation(outcome: str) -> None:
    metrics.SAGA_STEPS.labels(
        service="orders", step=Step.VALIDATE_USER.value, outcome=outcome
    ).inc()
