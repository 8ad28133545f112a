"""The worker pool shared by explore and chaos (`harness.parallel.run_each`)."""

from __future__ import annotations

import os
import time

import pytest

from harness.parallel import run_each


def _slow_square(n: int) -> tuple[int, int, float]:
    """n squared, the worker's pid, when it started; later items finish first."""
    started = time.monotonic()
    time.sleep(0.3 if n == 1 else 0.05)
    return n * n, os.getpid(), started


def _fail_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


def test_results_come_back_in_the_items_order_when_later_units_finish_first() -> None:
    finished: list[int] = []
    batch = run_each(
        _slow_square, [1, 2, 3], parallel=2, on_result=lambda n, _r: finished.append(n)
    )
    assert [r[0] for r in batch.results] == [1, 4, 9]
    assert batch.ran == [1, 2, 3]
    assert batch.not_run == []
    assert finished[-1] == 1  # 1 was the slowest: reported last, returned first


def test_parallel_units_run_at_once_in_worker_processes() -> None:
    batch = run_each(_slow_square, [1, 2], parallel=2)
    pids = {pid for _, pid, _ in batch.results}
    assert os.getpid() not in pids
    assert len(pids) == 2
    starts = [started for _, _, started in batch.results]
    assert abs(starts[0] - starts[1]) < 0.3  # the second did not wait for the first


def test_serial_runs_in_this_process_in_order() -> None:
    started: list[int] = []
    batch = run_each(_slow_square, [2, 3], on_start=started.append)
    assert {pid for _, pid, _ in batch.results} == {os.getpid()}
    assert started == [2, 3]


@pytest.mark.parametrize("parallel", [1, 2])
def test_no_unit_starts_once_the_time_budget_is_spent(parallel: int) -> None:
    batch = run_each(_slow_square, [1, 2, 3, 4], parallel=parallel, time_budget=0.0)
    assert batch.results == []
    assert batch.not_run == [1, 2, 3, 4]


@pytest.mark.parametrize("parallel", [1, 2])
def test_an_exception_in_a_unit_reaches_the_caller(parallel: int) -> None:
    with pytest.raises(ValueError, match="three"):
        run_each(_fail_on_three, [1, 2, 3, 4], parallel=parallel)
