"""The order saga over in-memory fakes: every step's failure, compensation, unknown outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from saga_fakes import Fault, SagaWorld, lost_answer, lost_then_refused, refused, unavailable
from shop.common.metrics import sample_value
from shop.orders.models import Effect, SagaState
from shop.orders.saga import SagaOptions

pytestmark = pytest.mark.anyio


@pytest.fixture
def world() -> Iterator[SagaWorld]:
    world = SagaWorld()
    yield world
    world.engine.dispose()


def saga_total(outcome: str) -> float:
    return sample_value("shop_saga_total", {"service": "orders", "outcome": outcome})


def assert_cancelled_cleanly(world: SagaWorld, order_id: int, reason: str) -> None:
    """README invariant 3 and 4 for a cancelled order, plus its one cancellation event."""
    order = world.order(order_id)
    assert order.status == "cancelled"
    assert order.reason == reason
    assert world.payments.for_order(order_id, "captured") == []
    assert [r for r in world.inventory.held() if r.order_id == order_id] == []
    assert world.stock_is_whole()
    assert world.outbox_types(order_id) == ["order.cancelled"]


async def test_saga_confirms_the_order_when_every_step_succeeds(world: SagaWorld) -> None:
    completed_before = saga_total("completed")
    order, saga = world.new_saga(items=[("SKU-1", 2), ("SKU-2", 1)])
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPLETED
    confirmed = world.order(order.id)
    assert confirmed.status == "confirmed"
    assert confirmed.total_cents == 2 * 250 + 1000
    [payment] = world.payments.for_order(order.id)
    assert (payment.status, payment.amount_cents) == ("captured", 1500)
    assert confirmed.payment_id == payment.id
    [reservation] = world.inventory.reservations.values()
    assert reservation.status == "confirmed"
    assert confirmed.reservation_id == reservation.id
    assert world.inventory.stock == {"SKU-1": 8, "SKU-2": 4}
    assert world.outbox_types(order.id) == ["order.confirmed"]
    assert [step for step, outcome in world.log(saga.id) if outcome == "success"] == [
        "validate_user",
        "reserve_stock",
        "charge_payment",
        "confirm_reservation",
        "confirm_order",
    ]
    assert saga_total("completed") == completed_before + 1


async def test_saga_cancels_without_side_effects_when_stock_is_short(world: SagaWorld) -> None:
    order, saga = world.new_saga(items=[("SKU-2", 6)])
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert (done.failure_status, done.failure_error) == (409, "insufficient_stock")
    assert_cancelled_cleanly(world, order.id, "insufficient_stock")
    assert world.payments.calls == []


async def test_saga_cancels_when_inventory_is_unavailable_for_the_reservation(
    world: SagaWorld,
) -> None:
    world.inventory.fail_next("reserve", unavailable("inventory"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert (done.state, done.failure_status) == (SagaState.COMPENSATED, 503)
    assert done.failure_dependency == "inventory"
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")
    assert world.payments.calls == []


async def test_saga_releases_a_reservation_whose_answer_was_lost(world: SagaWorld) -> None:
    world.inventory.fail_next("reserve", lost_answer("inventory"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    [reservation] = world.inventory.reservations.values()
    assert reservation.status == "cancelled"
    assert "void_reservation_key" in world.inventory.calls
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")


@pytest.mark.parametrize("fault", [lost_answer, lost_then_refused])
async def test_saga_releases_a_reservation_made_by_an_earlier_attempt(
    world: SagaWorld, fault: Callable[[str], Fault]
) -> None:
    world.inventory.fail_next("reserve", fault("inventory"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert [r.status for r in world.inventory.reservations.values()] == ["cancelled"]
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")


async def test_saga_releases_stock_when_the_card_is_declined(world: SagaWorld) -> None:
    order, saga = world.new_saga(card_token="tok_declined")
    done = await world.runner.run(saga.id)
    assert (done.state, done.failure_status, done.charge) == (
        SagaState.COMPENSATED,
        402,
        Effect.DECLINED,
    )
    assert_cancelled_cleanly(world, order.id, "card_declined")
    assert [p.status for p in world.payments.for_order(order.id)] == ["declined"]
    assert "refund" not in world.payments.calls


async def test_saga_cancels_when_payments_refuses_the_charge_request(world: SagaWorld) -> None:
    world.payments.fail_next("charge", refused("payments", 422, "validation_error"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert (done.state, done.failure_status, done.failure_error) == (
        SagaState.COMPENSATED,
        502,
        "dependency_error",
    )
    assert_cancelled_cleanly(world, order.id, "dependency_error")


async def test_saga_compensates_when_the_charge_surely_did_not_happen(world: SagaWorld) -> None:
    world.payments.fail_next("charge", unavailable("payments"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert world.payments.calls == ["charge", "void_key"]
    assert world.payments.payments == {}
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")


async def test_unknown_charge_outcome_is_resolved_by_key_and_the_saga_goes_on(
    world: SagaWorld,
) -> None:
    world.payments.fail_next("charge", lost_answer("payments"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPLETED
    assert world.payments.calls == ["charge", "void_key"]
    assert len(world.payments.for_order(order.id, "captured")) == 1
    assert ("charge_payment", "unknown") in world.log(saga.id)
    assert world.order(order.id).status == "confirmed"


async def test_lost_answer_for_a_declined_charge_is_resolved_as_declined(
    world: SagaWorld,
) -> None:
    world.payments.fail_next("charge", lost_answer("payments"))
    order, saga = world.new_saga(card_token="tok_declined")
    done = await world.runner.run(saga.id)
    assert (done.state, done.failure_error) == (SagaState.COMPENSATED, "card_declined")
    assert_cancelled_cleanly(world, order.id, "card_declined")


async def test_saga_refunds_and_releases_when_confirming_the_reservation_fails(
    world: SagaWorld,
) -> None:
    world.inventory.fail_next("confirm", unavailable("inventory"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert [p.status for p in world.payments.for_order(order.id)] == ["refunded"]
    assert world.payments.refund_calls == 1
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")
    compensations = [s for s, o in world.log(saga.id) if o == "success"][-3:]
    assert compensations == ["refund_payment", "cancel_reservation", "cancel_order"]


async def test_saga_refunds_when_the_reservation_was_cancelled_behind_its_back(
    world: SagaWorld,
) -> None:
    world.inventory.fail_next("confirm", refused("inventory", 409, "conflict"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert (done.state, done.failure_status) == (SagaState.COMPENSATED, 409)
    assert_cancelled_cleanly(world, order.id, "reservation_conflict")


async def test_lost_confirmation_answer_is_checked_and_the_saga_completes(
    world: SagaWorld,
) -> None:
    world.inventory.fail_next("confirm", lost_answer("inventory"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPLETED
    assert "get_reservation" in world.inventory.calls
    assert world.order(order.id).status == "confirmed"


async def test_a_confirmation_that_cannot_be_checked_pauses_the_saga_until_it_can(
    world: SagaWorld,
) -> None:
    # The confirmation went through, but neither its answer nor the check came back:
    # cancelling now would meet a confirmed reservation, so the saga waits instead.
    world.inventory.fail_next("confirm", lost_answer("inventory"))
    world.inventory.fail_next("get_reservation", unavailable("inventory"))
    order, saga = world.new_saga()
    paused = await world.runner.run(saga.id)
    assert (paused.state, paused.failure_status) == (SagaState.RUNNING, 503)
    assert ("confirm_reservation", "paused") in world.log(saga.id)
    assert world.order(order.id).status == "pending"
    assert world.payments.refund_calls == 0
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPLETED
    assert world.order(order.id).status == "confirmed"
    assert len(world.payments.for_order(order.id, "captured")) == 1
    assert world.stock_is_whole()


async def test_failed_refund_leaves_the_saga_compensating_until_a_retry_finishes_it(
    world: SagaWorld,
) -> None:
    world.inventory.fail_next("confirm", unavailable("inventory"))
    world.payments.take_down("refund")
    order, saga = world.new_saga()
    stuck = await world.runner.run(saga.id)
    assert stuck.state == SagaState.COMPENSATING
    assert stuck.compensation_attempts == 1
    assert world.order(order.id).status == "pending"
    # The reservation is released even though the refund before it failed.
    assert world.inventory.held() == []
    assert world.outbox_types(order.id) == []

    still_stuck = await world.runner.run(saga.id)
    assert still_stuck.compensation_attempts == 2

    world.payments.heal()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert world.payments.refund_calls == 1
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")


async def test_unknown_charge_with_payments_down_is_resolved_by_a_later_compensation(
    world: SagaWorld,
) -> None:
    world.payments.fail_next("charge", lost_answer("payments"))
    world.payments.take_down("void_key")
    order, saga = world.new_saga()
    stuck = await world.runner.run(saga.id)
    assert (stuck.state, stuck.charge) == (SagaState.COMPENSATING, Effect.PENDING)
    world.payments.heal()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert [p.status for p in world.payments.for_order(order.id)] == ["refunded"]
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")


async def test_a_charge_the_saga_could_not_settle_is_settled_again_on_a_later_run_only(
    world: SagaWorld,
) -> None:
    """Settling it again at once would repeat the client's retries: one call reaching
    payments 6 times for one order (found by `harness explore`)."""
    world.payments.fail_next("charge", lost_answer("payments"))
    world.payments.take_down("void_key")
    _, saga = world.new_saga()
    stuck = await world.runner.run(saga.id)
    assert (stuck.state, stuck.charge) == (SagaState.COMPENSATING, Effect.PENDING)
    assert world.payments.calls.count("void_key") == 1
    await world.runner.run(saga.id)
    assert world.payments.calls.count("void_key") == 2


async def test_a_refund_refused_for_good_marks_the_saga_failed(world: SagaWorld) -> None:
    failed_before = saga_total("failed")
    world.inventory.fail_next("confirm", unavailable("inventory"))
    world.payments.fail_next("refund", refused("payments", 422, "validation_error"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.FAILED
    assert "refund_payment" in (done.last_error or "")
    assert world.order(order.id).status == "pending"
    assert saga_total("failed") == failed_before + 1


async def test_saga_steps_are_counted_in_metrics(world: SagaWorld) -> None:
    def steps(step: str, outcome: str) -> float:
        labels = {"service": "orders", "step": step, "outcome": outcome}
        return sample_value("shop_saga_step_total", labels)

    before = (steps("charge_payment", "unknown"), steps("charge_payment", "success"))
    world.payments.fail_next("charge", lost_answer("payments"))
    _, saga = world.new_saga()
    await world.runner.run(saga.id)
    assert (steps("charge_payment", "unknown"), steps("charge_payment", "success")) == (
        before[0] + 1,
        before[1] + 1,
    )


async def test_unsafe_mode_charges_twice_when_an_answer_is_lost() -> None:
    world = SagaWorld(options=SagaOptions(send_idempotency_key=False))
    world.payments.fail_next("charge", lost_answer("payments"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    # What the protection switch exists to show: the retry had a new key, so a second charge.
    assert done.state == SagaState.COMPLETED
    assert len(world.payments.for_order(order.id, "captured")) == 2
    world.engine.dispose()


async def test_unsafe_mode_keeps_a_lost_charge_of_a_cancelled_order() -> None:
    world = SagaWorld(options=SagaOptions(send_idempotency_key=False, unsafe_charge_attempts=1))
    world.payments.fail_next("charge", lost_answer("payments"))
    order, saga = world.new_saga()
    done = await world.runner.run(saga.id)
    assert done.state == SagaState.COMPENSATED
    assert world.order(order.id).status == "cancelled"
    assert len(world.payments.for_order(order.id, "captured")) == 1  # invariant 3 broken
    world.engine.dispose()


async def test_outbox_off_sends_the_event_directly_and_loses_it_when_notifications_is_down() -> (
    None
):
    world = SagaWorld(outbox_enabled=False)
    world.events.take_down("publish")
    first, saga = world.new_saga(key="k1")
    await world.runner.run(saga.id)
    world.events.heal()
    second, saga = world.new_saga(key="k2")
    await world.runner.run(saga.id)
    assert world.order(first.id).status == world.order(second.id).status == "confirmed"
    assert world.store.events_for_order(first.id) == []
    assert world.events.notified(first.id) == []  # lost: invariant 5 broken
    assert world.events.notified(second.id) == ["order.confirmed"]
    world.engine.dispose()


async def test_finishing_a_saga_twice_writes_one_event(world: SagaWorld) -> None:
    order, saga = world.new_saga()
    await world.runner.run(saga.id)
    again = await world.runner.run(saga.id)
    assert again.state == SagaState.COMPLETED
    assert world.outbox_types(order.id) == ["order.confirmed"]
    assert world.payments.calls.count("charge") == 1


async def test_a_resumed_charge_whose_key_the_saga_voided_compensates_with_nothing_charged(
    world: SagaWorld,
) -> None:
    """The saga voided its charge key, then its process died before it recorded why: the
    resumed saga's charge is refused, and the order ends cancelled as unavailable."""
    order, saga = world.new_saga()
    world.payments.voided.add(f"saga-{saga.uid}-charge")
    done = await world.runner.run(saga.id)
    assert (done.state, done.charge) == (SagaState.COMPENSATED, Effect.NONE)
    assert world.payments.payments == {}
    assert_cancelled_cleanly(world, order.id, "dependency_unavailable")
