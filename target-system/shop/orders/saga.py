"""The order saga: validate user -> reserve stock -> charge -> confirm reservation -> confirm order.

On a failure it compensates in reverse: refund (if charged) -> cancel the reservation (if
reserved) -> cancel the order. The saga log is written after every step and before every
remote call whose outcome must be found again after a crash (effect `pending`), so a saga
can be resumed or compensated from the database alone (`SagaRunner.run`).

Every key sent to a dependency derives from the saga's `uid`, so a resumed step repeats the
same request and the dependency answers it idempotently. A charge whose outcome is unknown
is settled with `POST /payment-voids` before anything is compensated: payments answers the
charge made under the key, or voids the key so that no charge under it can commit later. A
look-up alone is not enough: the charge request may still sit in a stalled payments queue,
and commit after the saga concluded "no charge" and cancelled the order. A reservation whose
answer was lost is settled the same way (`POST /reservation-voids`) before it is cancelled.

Unsafe mode (`send_idempotency_key=False`, the ORDERS_SEND_IDEMPOTENCY_KEY protection switch):
each charge attempt carries a fresh key and a failed attempt is simply tried again, and an
unknown outcome is assumed to be "not charged". Chaos tests use it to show what the keys
protect against (double charges, charges kept on cancelled orders).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shop.common import metrics
from shop.common.errors import DependencyUnavailable
from shop.orders.models import Effect, Order, OrderStatus, Saga, SagaState, Step
from shop.orders.ports import LineItem, PaymentRecord, Refused, SagaPorts
from shop.orders.store import Finished, SagaStore

logger = logging.getLogger(__name__)

CURRENCY = "EUR"


@dataclass(frozen=True, kw_only=True)
class SagaOptions:
    """- `send_idempotency_key` (True): the protection switch described in the module doc.
    - `unsafe_charge_attempts` (3): charge attempts, each with a new key, in unsafe mode.
    """

    send_idempotency_key: bool = True
    unsafe_charge_attempts: int = 3


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a saga compensates, and what POST /orders answers for it."""

    status_code: int
    error: str
    detail: str
    dependency: str | None = None

    @classmethod
    def unavailable(cls, exc: DependencyUnavailable) -> Failure:
        return cls(503, "dependency_unavailable", str(exc.detail), exc.dependency)

    @classmethod
    def refused(cls, exc: Refused) -> Failure:
        return cls(502, "dependency_error", str(exc), exc.dependency)

    def columns(self) -> dict[str, Any]:
        return {
            "failure_status": self.status_code,
            "failure_error": self.error,
            "failure_detail": self.detail,
            "failure_dependency": self.dependency,
        }


class _Paused(Exception):
    """A forward step cannot tell where it stands: the saga stays running, retried later."""

    def __init__(self, step: Step, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.step = step
        self.failure = failure


class CompensationError(Exception):
    """A compensation step did not finish; `permanent` when retrying cannot help."""

    def __init__(self, step: Step, reason: str, *, permanent: bool) -> None:
        super().__init__(f"{step.value}: {reason}")
        self.step = step
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class _Context:
    """What every step needs, read once per run."""

    saga_id: int
    uid: str
    order_id: int
    items: list[LineItem]
    total_cents: int
    card_token: str
    # Keys this run tried to settle and could not: compensation settles them on a later run,
    # not at once (the same call again, right after its client's retries, is a second layer).
    unsettled: set[str] = field(default_factory=set)

    def key(self, purpose: str) -> str:
        return f"saga-{self.uid}-{purpose}"


def _count_step(step: Step, outcome: str) -> None:
    metrics.SAGA_STEPS.labels(service="orders", step=step.value, outcome=outcome).inc()


class SagaRunner:
    """Runs sagas, at most one task per saga; a request awaits its saga shielded from cancel.

    Keyword-only: `store`, `ports`, `options` (SagaOptions()), `on_finished` (called with each
    `Finished`, e.g. to wake the outbox relay; None).
    """

    def __init__(
        self,
        *,
        store: SagaStore,
        ports: SagaPorts,
        options: SagaOptions | None = None,
        on_finished: Callable[[Finished], None] | None = None,
    ) -> None:
        self.store = store
        self.ports = ports
        self.options = options or SagaOptions()
        self._on_finished = on_finished
        self._active: dict[int, asyncio.Task[Saga]] = {}

    # -- task management -------------------------------------------------------------------

    def start(self, saga_id: int) -> asyncio.Task[Saga]:
        """The task driving this saga (started now unless one is running)."""
        task = self._active.get(saga_id)
        if task is None:
            task = asyncio.create_task(self._drive(saga_id), name=f"saga-{saga_id}")
            self._active[saga_id] = task
            task.add_done_callback(lambda done: self._forget(saga_id, done))
        return task

    async def run(self, saga_id: int) -> Saga:
        """Drive the saga as far as it goes now; the caller's cancellation does not stop it."""
        return await asyncio.shield(self.start(saga_id))

    def is_active(self, saga_id: int) -> bool:
        return saga_id in self._active

    async def wait(self, saga_id: int, *, at_most: float) -> None:
        """Wait (at most `at_most` seconds) for the saga's running task, if any."""
        task = self._active.get(saga_id)
        if task is not None:
            await asyncio.wait({task}, timeout=at_most)

    async def aclose(self) -> None:
        """Cancel running sagas (shutdown); their log lets recovery pick them up again."""
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refresh_in_flight_gauge(self) -> None:
        metrics.SAGAS_IN_FLIGHT.labels(service="orders").set(self.store.count_in_flight())

    def _forget(self, saga_id: int, done: asyncio.Task[Saga]) -> None:
        if self._active.get(saga_id) is done:
            del self._active[saga_id]
        if not done.cancelled() and done.exception() is not None:
            logger.error("saga %s stopped on an error", saga_id, exc_info=done.exception())

    # -- driving ---------------------------------------------------------------------------

    async def _drive(self, saga_id: int) -> Saga:
        saga = self._load(saga_id)
        order = self._order(saga)
        context = _Context(
            saga_id=saga.id,
            uid=saga.uid,
            order_id=order.id,
            items=[LineItem(sku=i["sku"], quantity=i["quantity"]) for i in order.items],
            total_cents=order.total_cents,
            card_token=saga.card_token,
        )
        forward = {
            Step.VALIDATE_USER: self._reserve,
            Step.RESERVE_STOCK: self._charge,
            Step.CHARGE_PAYMENT: self._confirm_reservation,
            Step.CONFIRM_RESERVATION: self._confirm_order,
        }
        try:
            while saga.state == SagaState.RUNNING:
                saga = await forward[Step(saga.step)](context, saga)
        except _Paused as pause:
            saga = self.store.record(
                saga_id, log_step=pause.step.value, outcome="paused", **pause.failure.columns()
            )
        if saga.state == SagaState.COMPENSATING:
            saga = await self._compensate(context, saga)
        self.refresh_in_flight_gauge()
        return saga

    def _load(self, saga_id: int) -> Saga:
        saga = self.store.get_saga(saga_id)
        if saga is None:
            raise LookupError(f"no saga {saga_id}")
        return saga

    def _order(self, saga: Saga) -> Order:
        order = self.store.get_order(saga.order_id)
        if order is None:
            raise LookupError(f"no order {saga.order_id} for saga {saga.id}")
        return order

    def _record(
        self,
        ctx: _Context,
        step: Step,
        outcome: str,
        detail: str | None = None,
        /,
        **changes: Any,
    ) -> Saga:
        """Log `step: outcome` and apply `changes` to the saga (`step=` moves it forward)."""
        if outcome in ("success", "failure", "unknown"):
            _count_step(step, outcome)
        return self.store.record(
            ctx.saga_id, log_step=step.value, outcome=outcome, detail=detail, **changes
        )

    def _fail(
        self,
        ctx: _Context,
        step: Step,
        failure: Failure,
        /,
        *,
        outcome: str = "failure",
        **changes: Any,
    ) -> Saga:
        logger.info("saga %s: %s failed (%s), compensating", ctx.saga_id, step, failure.detail)
        return self._record(
            ctx,
            step,
            outcome,
            failure.detail,
            state=SagaState.COMPENSATING,
            **failure.columns(),
            **changes,
        )

    # -- forward steps ---------------------------------------------------------------------

    async def _reserve(self, ctx: _Context, saga: Saga) -> Saga:
        step = Step.RESERVE_STOCK
        self._record(ctx, step, "started", reservation=Effect.PENDING)
        try:
            reservation = await self.ports.inventory.reserve(
                order_id=ctx.order_id, items=ctx.items, idempotency_key=ctx.key("reserve")
            )
        except DependencyUnavailable as exc:
            # Maybe reserved: the reservation stays `pending` (even when the client says no
            # attempt reached inventory: a lookup is cheap), and compensation looks it up by
            # order before the order is cancelled.
            outcome = "unknown" if exc.outcome_unknown else "failure"
            return self._fail(ctx, step, Failure.unavailable(exc), outcome=outcome)
        except Refused as exc:
            return self._fail(ctx, step, _reserve_failure(exc), reservation=Effect.NONE)
        return self._record(
            ctx,
            step,
            "success",
            f"reservation {reservation.id}",
            step=step,
            reservation=Effect.DONE,
            reservation_id=reservation.id,
        )

    async def _charge(self, ctx: _Context, saga: Saga) -> Saga:
        if not self.options.send_idempotency_key:
            return await self._charge_unsafely(ctx)
        step = Step.CHARGE_PAYMENT
        key = ctx.key("charge")
        self._record(ctx, step, "started", charge=Effect.PENDING, charge_key=key)
        try:
            payment = await self._send_charge(ctx, key)
        except Refused as exc:
            return self._charge_refused(ctx, exc)
        except DependencyUnavailable as exc:
            return await self._resolve_unknown_charge(ctx, key, exc)
        return self._charged(ctx, payment)

    async def _send_charge(self, ctx: _Context, key: str) -> PaymentRecord:
        return await self.ports.payments.charge(
            order_id=ctx.order_id,
            amount_cents=ctx.total_cents,
            currency=CURRENCY,
            card_token=ctx.card_token,
            idempotency_key=key,
        )

    async def _resolve_unknown_charge(
        self, ctx: _Context, key: str, exc: DependencyUnavailable
    ) -> Saga:
        """The charge may or may not have happened: settle its key before compensating.

        Settled even when the client says no attempt reached payments: the client cannot
        know that a request it gave up on is not still queued at payments.
        """
        step = Step.CHARGE_PAYMENT
        failure = Failure.unavailable(exc)
        self._record(ctx, step, "unknown", f"{exc.detail}; settling the charge by its key")
        try:
            found = await self.ports.payments.void_unless_charged(key)
        except (DependencyUnavailable, Refused):
            # Still unknown (charge stays pending): compensation resolves it again on a later
            # run, retried until payments answers.
            ctx.unsettled.add(key)
            return self._fail(ctx, step, failure)
        if found is None:
            return self._fail(ctx, step, failure, charge=Effect.NONE)
        if found.status == "declined":
            return self._charge_refused(ctx, Refused("payments", 402, "card_declined"))
        return self._charged(ctx, found)

    def _charged(self, ctx: _Context, payment: PaymentRecord) -> Saga:
        step = Step.CHARGE_PAYMENT
        changes: dict[str, Any] = {"payment_id": payment.id}
        if payment.status == "captured":
            return self._record(
                ctx,
                step,
                "success",
                f"payment {payment.id}",
                step=step,
                charge=Effect.DONE,
                **changes,
            )
        # Refunded already (by someone else): the order cannot go on, nothing to refund.
        failure = Failure(409, "payment_conflict", f"payment {payment.id} is {payment.status}")
        return self._fail(ctx, step, failure, charge=Effect.UNDONE, **changes)

    def _charge_refused(self, ctx: _Context, exc: Refused) -> Saga:
        step = Step.CHARGE_PAYMENT
        if exc.status_code == 402:
            return self._fail(ctx, step, _DECLINED, charge=Effect.DECLINED)
        if exc.error == "idempotency_key_voided":
            # This saga voided its own key (it was settling a lost charge when its process
            # died): no charge exists or ever will, and payments was the reason it settled.
            failure = Failure(503, "dependency_unavailable", str(exc), exc.dependency)
            return self._fail(ctx, step, failure, charge=Effect.NONE)
        return self._fail(ctx, step, Failure.refused(exc), charge=Effect.NONE)

    async def _charge_unsafely(self, ctx: _Context) -> Saga:
        """Unsafe mode: a new key per attempt, retry on any failure, assume 'not charged'."""
        step = Step.CHARGE_PAYMENT
        last_error: DependencyUnavailable | None = None
        for _ in range(max(1, self.options.unsafe_charge_attempts)):
            key = uuid.uuid4().hex
            self._record(
                ctx, step, "started", "unsafe: fresh key", charge=Effect.PENDING, charge_key=key
            )
            try:
                payment = await self._send_charge(ctx, key)
            except Refused as exc:
                return self._charge_refused(ctx, exc)
            except DependencyUnavailable as exc:
                last_error = exc
                continue
            return self._charged(ctx, payment)
        assert last_error is not None
        return self._fail(ctx, step, Failure.unavailable(last_error), charge=Effect.NONE)

    async def _confirm_reservation(self, ctx: _Context, saga: Saga) -> Saga:
        step = Step.CONFIRM_RESERVATION
        reservation_id = _required(saga.reservation_id, "reservation_id")
        self._record(ctx, step, "started")
        try:
            await self.ports.inventory.confirm(reservation_id, idempotency_key=ctx.key("confirm"))
        except Refused as exc:
            failure = Failure(409, "reservation_conflict", str(exc), exc.dependency)
            return self._fail(ctx, step, failure)
        except DependencyUnavailable as exc:
            status = await self._reservation_status(reservation_id)
            if status is None:
                # Maybe confirmed, maybe not: cancelling could meet a confirmed reservation
                # (stock sold to a cancelled order). Pause; the retry pass confirms again.
                self._record(ctx, step, "unknown", f"{exc.detail}; will confirm again")
                raise _Paused(step, Failure.unavailable(exc)) from exc
            if status != "confirmed":
                return self._fail(ctx, step, Failure.unavailable(exc))
        return self._record(ctx, step, "success", step=step, reservation=Effect.CONFIRMED)

    async def _reservation_status(self, reservation_id: int) -> str | None:
        """The reservation's status after a confirmation went unanswered (None: unknown).

        Asked even when the client says no attempt reached inventory: a lookup is cheap, and
        it keeps the saga safe whatever the client makes of a transport error.
        """
        try:
            reservation = await self.ports.inventory.get_reservation(reservation_id)
        except (DependencyUnavailable, Refused):
            return None
        return "missing" if reservation is None else reservation.status

    async def _confirm_order(self, ctx: _Context, saga: Saga) -> Saga:
        finished = self.store.finish(
            ctx.saga_id, state=SagaState.COMPLETED, order_status=OrderStatus.CONFIRMED, reason=None
        )
        _count_step(Step.CONFIRM_ORDER, "success")
        metrics.SAGA_TOTAL.labels(service="orders", outcome="completed").inc()
        await self._after_finish(finished)
        return finished.saga

    # -- compensation ----------------------------------------------------------------------

    async def _compensate(self, ctx: _Context, saga: Saga) -> Saga:
        """Undo what was done; each undo runs even if another one failed (retried later)."""
        errors: list[CompensationError] = []
        for undo in (self._undo_charge, self._undo_reservation):
            try:
                saga = await undo(ctx, saga)
            except CompensationError as exc:
                errors.append(exc)
        if errors:
            return self._compensation_failed(ctx, saga, errors)
        finished = self.store.finish(
            ctx.saga_id,
            state=SagaState.COMPENSATED,
            order_status=OrderStatus.CANCELLED,
            reason=saga.failure_error,
        )
        _count_step(Step.CANCEL_ORDER, "success")
        metrics.SAGA_TOTAL.labels(service="orders", outcome="compensated").inc()
        await self._after_finish(finished)
        return finished.saga

    def _compensation_failed(
        self, ctx: _Context, saga: Saga, errors: list[CompensationError]
    ) -> Saga:
        permanent = any(e.permanent for e in errors)
        reason = "; ".join(str(e) for e in errors)
        logger.warning("saga %s: compensation incomplete: %s", ctx.saga_id, reason)
        saga = self.store.record(
            ctx.saga_id,
            log_step=errors[0].step.value,
            outcome="failure",
            detail=reason,
            state=SagaState.FAILED if permanent else SagaState.COMPENSATING,
            compensation_attempts=saga.compensation_attempts + 1,
            last_error=reason,
        )
        if permanent:
            metrics.SAGA_TOTAL.labels(service="orders", outcome="failed").inc()
        return saga

    async def _undo_charge(self, ctx: _Context, saga: Saga) -> Saga:
        step = Step.REFUND_PAYMENT
        if saga.charge == Effect.PENDING:
            saga = await self._settle_pending_charge(ctx, saga)
        if saga.charge != Effect.DONE:
            return saga
        payment_id = _required(saga.payment_id, "payment_id")
        try:
            await self.ports.payments.refund(payment_id, idempotency_key=ctx.key("refund"))
        except DependencyUnavailable as exc:
            _count_step(step, "failure")
            raise CompensationError(step, str(exc.detail), permanent=False) from exc
        except Refused as exc:
            if exc.status_code not in (404, 409):
                _count_step(step, "failure")
                raise CompensationError(step, str(exc), permanent=True) from exc
            # 409: declined, nothing to give back; 404: there is no such payment.
            return self._record(ctx, step, "success", str(exc), charge=Effect.UNDONE)
        return self._record(ctx, step, "success", f"payment {payment_id}", charge=Effect.UNDONE)

    async def _settle_pending_charge(self, ctx: _Context, saga: Saga) -> Saga:
        """Turn an unknown charge into a known one before refunding (or not).

        A charge found declined is why the order fails: the card, not the fault that hid
        the answer, so the saga's failure becomes the decline (the order's reason with it).
        """
        step = Step.REFUND_PAYMENT
        if not self.options.send_idempotency_key or saga.charge_key is None:
            detail = "unsafe mode: unknown charge assumed not made"
            return self._record(ctx, step, "skipped", detail, charge=Effect.NONE)
        if saga.charge_key in ctx.unsettled:
            raise CompensationError(
                step, "charge still unknown: settled on a later run", permanent=False
            )
        try:
            found = await self.ports.payments.void_unless_charged(saga.charge_key)
        except DependencyUnavailable as exc:
            _count_step(step, "unknown")
            raise CompensationError(
                step, f"charge still unknown: {exc.detail}", permanent=False
            ) from exc
        except Refused as exc:
            _count_step(step, "failure")
            raise CompensationError(step, str(exc), permanent=True) from exc
        if found is None:
            detail = "no charge under the key, and the key is void"
            return self._record(ctx, step, "skipped", detail, charge=Effect.NONE)
        effect = {"captured": Effect.DONE, "declined": Effect.DECLINED}.get(
            found.status, Effect.UNDONE
        )
        failure = _DECLINED.columns() if effect == Effect.DECLINED else {}
        return self.store.record(
            ctx.saga_id,
            log_step=step.value,
            outcome="resolved",
            detail=f"payment {found.id} is {found.status}",
            charge=effect,
            payment_id=found.id,
            **failure,
        )

    async def _undo_reservation(self, ctx: _Context, saga: Saga) -> Saga:
        step = Step.CANCEL_RESERVATION
        if saga.reservation in (Effect.NONE, Effect.UNDONE):
            return saga
        try:
            if saga.reservation_id is None:
                detail = await self._settle_pending_reservation(ctx)
            else:
                detail = await self._cancel_reservation(ctx, saga.reservation_id)
        except DependencyUnavailable as exc:
            _count_step(step, "failure")
            raise CompensationError(step, str(exc.detail), permanent=False) from exc
        except Refused as exc:
            _count_step(step, "failure")
            raise CompensationError(step, str(exc), permanent=True) from exc
        return self._record(ctx, step, "success", detail, reservation=Effect.UNDONE)

    async def _cancel_reservation(self, ctx: _Context, reservation_id: int) -> str:
        try:
            await self.ports.inventory.cancel(reservation_id, idempotency_key=ctx.key("release"))
        except Refused as exc:
            if exc.status_code == 404:
                return f"reservation {reservation_id} not found"
            if exc.status_code == 409:
                # Confirmed before the failure: the stock stays sold, nothing is left held.
                logger.warning(
                    "saga %s: reservation %s already confirmed", ctx.saga_id, reservation_id
                )
                return f"reservation {reservation_id} was already confirmed"
            raise
        return f"reservation {reservation_id} cancelled"

    async def _settle_pending_reservation(self, ctx: _Context) -> str:
        """The reserve call's answer was lost: settle its key, then cancel what it reserved.

        Voiding the key, not listing the order's reservations: a reserve request still
        queued at inventory would otherwise hold stock for a cancelled order once it lands.
        """
        reservation = await self.ports.inventory.void_unless_reserved(ctx.key("reserve"))
        if reservation is None:
            return "no reservation under the key, and the key is void"
        return await self._cancel_reservation(ctx, reservation.id)

    # -- after the end ---------------------------------------------------------------------

    async def _after_finish(self, finished: Finished) -> None:
        if self._on_finished is not None:
            self._on_finished(finished)
        if finished.direct_event is not None:
            await self._publish_directly(finished.direct_event)

    async def _publish_directly(self, event: dict[str, Any]) -> None:
        """Outbox off (unsafe): one best-effort send after the commit; a failure loses it."""
        try:
            await self.ports.events.publish(event)
        except (DependencyUnavailable, Refused) as exc:
            metrics.OUTBOX_DELIVERY_FAILURES.labels(service="orders").inc()
            logger.warning("event %s lost (outbox disabled): %s", event["event_id"], exc)
            return
        metrics.OUTBOX_DELIVERED.labels(service="orders").inc()


_DECLINED = Failure(402, "card_declined", "the payment was declined")


def _reserve_failure(exc: Refused) -> Failure:
    if exc.status_code == 409:
        return Failure(409, "insufficient_stock", exc.detail or str(exc), exc.dependency)
    if exc.status_code == 404:
        return Failure(422, "unknown_product", exc.detail or str(exc), exc.dependency)
    return Failure.refused(exc)


def _required(value: int | None, name: str) -> int:
    if value is None:
        raise LookupError(f"saga has no {name} at this step")
    return value
