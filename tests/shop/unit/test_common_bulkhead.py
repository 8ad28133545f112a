"""Bulkhead: a fixed number of calls in flight, the next refused at once."""

from __future__ import annotations

import pytest
from shop.common.bulkhead import Bulkhead, BulkheadFull


def test_bulkhead_refuses_calls_beyond_its_limit() -> None:
    bulkhead = Bulkhead(2)
    assert bulkhead.try_acquire()
    assert bulkhead.try_acquire()
    assert not bulkhead.try_acquire()
    assert bulkhead.in_use == 2


def test_released_slot_can_be_taken_again() -> None:
    bulkhead = Bulkhead(1)
    assert bulkhead.try_acquire()
    bulkhead.release()
    assert bulkhead.try_acquire()


def test_slot_context_raises_when_full_and_frees_on_exit() -> None:
    bulkhead = Bulkhead(1)
    with bulkhead.slot(), pytest.raises(BulkheadFull), bulkhead.slot():
        pass
    assert bulkhead.in_use == 0


def test_slot_is_freed_when_the_block_raises() -> None:
    bulkhead = Bulkhead(1)
    with pytest.raises(RuntimeError), bulkhead.slot():
        raise RuntimeError("call failed")
    assert bulkhead.in_use == 0


def test_bulkhead_reports_every_change_in_use() -> None:
    seen: list[int] = []
    bulkhead = Bulkhead(3, on_change=seen.append)
    bulkhead.try_acquire()
    bulkhead.try_acquire()
    bulkhead.release()
    assert seen == [1, 2, 1]


def test_releasing_more_than_acquired_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        Bulkhead(1).release()


def test_bulkhead_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        Bulkhead(0)
