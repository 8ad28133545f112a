"""The worker pool shared by explore and chaos (`harness.parallel.run_each`)."""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from harness.parallel import run_each


def _square(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _wait_for(path: Path, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _one_ends_after_three(folder: Path, n: int) -> int:
    """1 ends only once 3's end has been reported (3 starts when 2 has ended: two at once).

    Waiting for 3's own end is not enough: when 3 and 1 end close together, the parent
    can collect both in one wait and reports them in the items' order.
    """
    if n == 1:
        _wait_for(folder / "reported-3")
    return n * n


def _meet(folder: Path, n: int) -> bool:
    """True when the other unit of the pair was running at the same time."""
    (folder / str(n)).touch()
    return _wait_for(folder / str(3 - n))


def _variable(name: str) -> str | None:
    return os.environ.get(name)


def _fail_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


def test_results_come_back_in_the_items_order_when_later_units_finish_first(
    tmp_path: Path,
) -> None:
    finished: list[int] = []
    batch = run_each(
        partial(_one_ends_after_three, tmp_path),
        [1, 2, 3],
        parallel=2,
        on_result=lambda n, _r: (finished.append(n), (tmp_path / f"reported-{n}").touch()),
    )
    assert batch.results == [1, 4, 9]
    assert batch.ran == [1, 2, 3]
    assert batch.not_run == []
    assert finished == [2, 3, 1]  # reported as they end, returned in the items' order


def test_parallel_units_run_at_once_in_worker_processes(tmp_path: Path) -> None:
    assert run_each(partial(_meet, tmp_path), [1, 2], parallel=2).results == [True, True]
    pids = {pid for _, pid in run_each(_square, [1, 2], parallel=2).results}
    assert os.getpid() not in pids


def test_serial_runs_in_this_process_in_order() -> None:
    started: list[int] = []
    batch = run_each(_square, [2, 3], on_start=started.append)
    assert batch.results == [(4, os.getpid()), (9, os.getpid())]
    assert started == [2, 3]


@pytest.mark.parametrize("parallel", [1, 2])
def test_no_unit_starts_once_the_time_budget_is_spent(parallel: int) -> None:
    batch = run_each(_square, [1, 2, 3, 4], parallel=parallel, time_budget=0.0)
    assert batch.results == []
    assert batch.not_run == [1, 2, 3, 4]


@pytest.mark.parametrize("parallel", [1, 2])
def test_an_exception_in_a_unit_reaches_the_caller(parallel: int) -> None:
    with pytest.raises(ValueError, match="three"):
        run_each(_fail_on_three, [1, 2, 3, 4], parallel=parallel)


def test_the_longest_units_start_first_and_results_keep_the_items_order() -> None:
    started: list[int] = []
    lengths = {1: 5.0, 2: 30.0, 3: 5.0, 4: 20.0}
    batch = run_each(
        _square, [1, 2, 3, 4], parallel=2, on_start=started.append, longest=lengths.__getitem__
    )
    assert started == [2, 4, 1, 3]  # longest first; equal estimates keep the items' order
    assert [square for square, _pid in batch.results] == [1, 4, 9, 16]
    assert batch.ran == [1, 2, 3, 4]


def test_workers_see_this_process_environment_as_it_is_when_the_pool_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workers fork from a server started by the first pool: a variable set after that
    still reaches the next pool's workers, and one removed is gone there too."""
    run_each(_square, [1, 2], parallel=2)  # the fork server is running from here on
    monkeypatch.setenv("HARNESS_TEST_POOL_VARIABLE", "set after the first pool")
    monkeypatch.delenv("HOME", raising=False)
    seen = run_each(_variable, ["HARNESS_TEST_POOL_VARIABLE", "HOME"], parallel=2)
    assert seen.results == ["set after the first pool", None]


CREATOR = """
import sys, time
from functools import partial
from pathlib import Path

from harness.parallel import run_each


def unit(folder, n):
    written = folder / f".started-{n}"  # renamed once whole: the test reads the pid
    written.write_text(str(__import__("os").getpid()))
    written.rename(folder / f"started-{n}")
    try:
        time.sleep(120)
    finally:  # what a unit's teardown does when interrupted
        (folder / f"cleaned-{n}").touch()


if __name__ == "__main__":
    run_each(partial(unit, Path(sys.argv[1])), [1, 2], parallel=2)
"""


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_workers_undo_their_unit_and_end_when_the_pool_creator_is_gone(
    tmp_path: Path, signal_name: str
) -> None:
    """A creator killed, or ended by a SIGTERM it does not handle, leaves no worker behind:
    each is interrupted as Ctrl-C would, so its unit's cleanup runs (before, they waited
    forever to hand their results to nobody, their systems still up)."""
    import signal
    import subprocess
    import sys

    import psutil

    script = tmp_path / "creator.py"
    script.write_text(CREATOR)
    creator = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    try:
        assert _wait_for(tmp_path / "started-1")
        assert _wait_for(tmp_path / "started-2")
        workers = [psutil.Process(int((tmp_path / f"started-{n}").read_text())) for n in (1, 2)]
        creator.send_signal(getattr(signal, signal_name))
        creator.wait(timeout=30)
        assert _wait_for(tmp_path / "cleaned-1", 30)
        assert _wait_for(tmp_path / "cleaned-2", 30)
        _gone, alive = psutil.wait_procs(workers, timeout=30)
        assert not alive, f"workers still running: {alive}"
    finally:
        creator.kill()
        creator.wait()


def _say(text: str) -> str:
    print(text, file=sys.stderr, flush=True)
    return text


def test_workers_write_to_this_process_stderr_as_it_is_when_the_pool_starts(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The fork server keeps the stderr of when it started (here: a file, as an earlier
    test's capture would be); the workers of a later pool still write to today's."""
    saved = os.dup(2)
    with (tmp_path / "elsewhere").open("w") as elsewhere:
        os.dup2(elsewhere.fileno(), 2)
        try:
            run_each(_square, [1, 2], parallel=2)  # the fork server is running from here on
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    run_each(_say, ["from worker one", "from worker two"], parallel=2)
    err = capfd.readouterr().err
    assert "from worker one" in err
    assert "from worker two" in err
