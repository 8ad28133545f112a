"""Sagas left in flight by a dead process are resumed or compensated; stuck ones are retried.

A "crash" here: the fake dependency blocks a call (before or after its effect), the runner's
tasks are cancelled as a dying process's would be, and a new runner over the same database
plays the restarted process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import pytest
from saga_fakes import SagaWorld, Scripted, lost_answer, unavailable
from shop.common.metrics import sample_value
from shop.orders.models import Effect, SagaState
from shop.orders.recovery import SagaRecovery
from shop.orders.saga import SagaRunner

pytestmark = pytest.mark.anyio


@pytest.fixture
def world() -> Iterator[SagaWorld]:
    world = SagaWorld()
    yield world
    world.engine.dispose()


def recovered(action: str) -> float:
    return sample_value("shop_saga_recovered_total", {"service": "orders", "action": action})


async def crash_during(
    world: SagaWorld, dependency: Scripted, op: str, saga_id: int, *, after_effect: bool
) -> None:
    """Run the saga until `op` is called, then kill the runner mid-call."""
    dependency.blockers[op] = asyncio.Event()
    if after_effect:
        dependency.block_after_effect.add(op)
    world.runner.start(saga_id)
    with anyio.fail_after(5):
        await dependency.reached[op].wait()
    await world.runner.aclose()
    dependency.blockers.clear()
    dependency.block_after_effect.clear()


async def restart(world: SagaWorld) -> int:
    world.runner = world.new_runner()
    return await SagaRecovery(store=world.store, runner=world.runner).recover_at_startup()


@pytest.mark.parametrize("after_effect", [False, True], ids=["before-effect", "after-effect"])
async def test_saga_killed_during_the_charge_is_resumed_and_charges_once(
    world: SagaWorld, after_effect: bool
) -> None:
    resumed_before = recovered("resumed")
    order, saga = world.new_saga()
    await crash_during(world, world.payments, "charge", saga.id, after_effect=after_effect)
    interrupted = world.saga(saga.id)
    assert (interrupted.state, interrupted.charge) == (SagaState.RUNNING, Effect.PENDING)

    assert await restart(world) == 1
    assert world.saga(saga.id).state == SagaState.COMPLETED
    assert world.order(order.id).status == "confirmed"
    assert len(world.payments.for_order(order.id, "captured")) == 1
    assert world.outbox_types(order.id) == ["order.confirmed"]
    assert recovered("resumed") == resumed_before + 1


async def test_saga_killed_during_a_compensation_is_compensated_after_restart(
    world: SagaWorld,
) -> None:
    compensated_before = recovered("compensated")
    world.inventory.fail_next("confirm", unavailable("inventory"))
    order, saga = world.new_saga()
    await crash_during(world, world.payments, "refund", saga.id, after_effect=False)
    assert world.saga(saga.id).state == SagaState.COMPENSATING

    assert await restart(world) == 1
    assert world.saga(saga.id).state == SagaState.COMPENSATED
    assert world.order(order.id).status == "cancelled"
    assert [p.status for p in world.payments.for_order(order.id)] == ["refunded"]
    assert world.inventory.held() == []
    assert recovered("compensated") == compensated_before + 1


@pytest.mark.parametrize(
    ("dependency", "op", "after_effect"),
    [
        ("inventory", "reserve", False),
        ("inventory", "reserve", True),
        ("payments", "charge", True),
        ("inventory", "confirm", False),
        ("inventory", "confirm", True),
        ("events", "publish", False),
    ],
)
async def test_no_saga_is_left_in_flight_after_a_crash_and_restart(
    world: SagaWorld, dependency: str, op: str, after_effect: bool
) -> None:
    order, saga = world.new_saga()
    scripted: Scripted = getattr(world, dependency)
    if op == "publish":
        # The relay is not part of the saga: a "crash" there is a crash after the commit.
        await world.runner.run(saga.id)
    else:
        await crash_during(world, scripted, op, saga.id, after_effect=after_effect)
    await restart(world)
    assert world.store.in_flight() == []
    assert world.order(order.id).status == "confirmed"
    assert len(world.payments.for_order(order.id, "captured")) == 1
    assert world.stock_is_whole()
    assert world.inventory.held() == []


async def test_retry_pass_skips_sagas_a_live_task_is_driving(world: SagaWorld) -> None:
    order, saga = world.new_saga()
    world.payments.blockers["charge"] = asyncio.Event()
    task = world.runner.start(saga.id)
    with anyio.fail_after(5):
        await world.payments.reached["charge"].wait()
    recovery = SagaRecovery(store=world.store, runner=world.runner)
    assert await recovery.retry_stuck() == 0
    world.payments.blockers["charge"].set()
    with anyio.fail_after(5):
        await task
    assert world.payments.calls.count("charge") == 1
    assert world.order(order.id).status == "confirmed"


async def test_retry_pass_drives_stuck_compensations_until_they_end(world: SagaWorld) -> None:
    world.inventory.fail_next("confirm", unavailable("inventory"))
    world.payments.take_down("refund")
    order, saga = world.new_saga()
    await world.runner.run(saga.id)
    recovery = SagaRecovery(store=world.store, runner=world.runner)
    assert await recovery.retry_stuck() == 1
    assert world.saga(saga.id).state == SagaState.COMPENSATING
    world.payments.heal()
    assert await recovery.retry_stuck() == 1
    assert world.saga(saga.id).state == SagaState.COMPENSATED
    assert await recovery.retry_stuck() == 0
    assert world.order(order.id).status == "cancelled"


async def test_background_recovery_resumes_then_keeps_retrying(world: SagaWorld) -> None:
    order, saga = world.new_saga()
    await crash_during(world, world.payments, "charge", saga.id, after_effect=True)
    finished = asyncio.Event()
    world.runner = SagaRunner(
        store=world.store, ports=world.ports(), on_finished=lambda _done: finished.set()
    )
    recovery = SagaRecovery(store=world.store, runner=world.runner)
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: recovery.run_forever(interval=0.01))
        with anyio.fail_after(5):
            await finished.wait()
        group.cancel_scope.cancel()
    assert world.store.in_flight() == []
    assert world.order(order.id).status == "confirmed"


async def test_retry_pass_resumes_a_saga_paused_on_an_unknown_confirmation(
    world: SagaWorld,
) -> None:
    world.inventory.take_down("confirm", lost_answer("inventory"))
    world.inventory.take_down("get_reservation")
    order, saga = world.new_saga()
    await world.runner.run(saga.id)
    recovery = SagaRecovery(store=world.store, runner=world.runner)
    assert await recovery.retry_stuck() == 1
    assert world.saga(saga.id).state == SagaState.RUNNING
    world.inventory.heal()
    await recovery.retry_stuck()
    assert world.saga(saga.id).state == SagaState.COMPLETED
    assert world.order(order.id).status == "confirmed"
