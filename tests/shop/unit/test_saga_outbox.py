"""The outbox relay: events written with their order's end are delivered in order, once each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from saga_fakes import SagaWorld, lost_answer, refused
from shop.common.metrics import sample_value
from shop.orders.models import OutboxStatus
from shop.orders.outbox import OutboxRelay

pytestmark = pytest.mark.anyio


@pytest.fixture
def world() -> Iterator[SagaWorld]:
    world = SagaWorld()
    yield world
    world.engine.dispose()


def backlog() -> float:
    return sample_value("shop_outbox_backlog", {"service": "orders"})


async def finished_orders(world: SagaWorld, count: int) -> list[int]:
    ids = []
    for n in range(count):
        order, saga = world.new_saga(key=f"k-{n}", items=[("SKU-1", 1)])
        await world.runner.run(saga.id)
        ids.append(order.id)
    return ids


async def test_relay_delivers_pending_events_in_order_and_marks_them_sent(
    world: SagaWorld,
) -> None:
    ids = await finished_orders(world, 3)
    relay = OutboxRelay(store=world.store, events=world.events)
    assert await relay.deliver_pending() == 3
    assert [e["order_id"] for e in world.events.received] == ids
    assert world.store.backlog() == 0
    assert backlog() == 0
    assert await relay.deliver_pending() == 0
    assert len(world.events.received) == 3


async def test_relay_stops_at_an_unavailable_notifications_and_resumes_later(
    world: SagaWorld,
) -> None:
    ids = await finished_orders(world, 2)
    relay = OutboxRelay(store=world.store, events=world.events)
    world.events.take_down("publish")
    assert await relay.deliver_pending() == 0
    assert world.events.calls == ["publish"]  # one try per pass, not one per event
    assert backlog() == 2
    world.events.heal()
    assert await relay.deliver_pending() == 2
    assert [world.events.notified(i) for i in ids] == [["order.confirmed"]] * 2


async def test_an_event_whose_answer_was_lost_is_sent_again_and_counted_once(
    world: SagaWorld,
) -> None:
    [order_id] = await finished_orders(world, 1)
    relay = OutboxRelay(store=world.store, events=world.events)
    world.events.fail_next("publish", lost_answer("notifications"))
    assert await relay.deliver_pending() == 0
    assert await relay.deliver_pending() == 1
    assert len(world.events.received) == 2  # delivered twice...
    assert world.events.notified(order_id) == ["order.confirmed"]  # ...one event id


async def test_a_refused_event_is_set_aside_and_does_not_block_the_others(
    world: SagaWorld,
) -> None:
    failures_before = sample_value("shop_outbox_delivery_failures_total", {"service": "orders"})
    first, second = await finished_orders(world, 2)
    world.events.fail_next("publish", refused("notifications", 422, "validation_error"))
    relay = OutboxRelay(store=world.store, events=world.events)
    assert await relay.deliver_pending() == 1
    assert [e.status for e in world.store.events_for_order(first)] == [OutboxStatus.REJECTED]
    assert world.events.notified(second) == ["order.confirmed"]
    assert world.store.backlog() == 0
    failures = sample_value("shop_outbox_delivery_failures_total", {"service": "orders"})
    assert failures == failures_before + 1
