"""Run independent units of work (explore's cells, chaos experiments) one after another or
`parallel` at once in worker processes, within an optional time budget.

Each unit starts its own system, so units share nothing but the machine: worker processes
keep their clocks, threads and signal handlers apart. They come from multiprocessing's fork
server, not from a fork of this process (which would copy its threads and sockets): a fresh
process that has imported `work`'s module once and forks a worker for each pool, so a worker
starts in milliseconds instead of importing the harness again (about 0.8 CPU-seconds each for
chaos). A worker takes this process's environment, stdout and stderr as they are when the
pool starts, and ends (its unit cleaning up, as on Ctrl-C) once this process is gone. `work`
and the items must be picklable (a module-level function, a bound method of a picklable
object, or a `functools.partial` of one) when `parallel > 1`. Results come back in the items'
order whatever order the units finish in.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import psutil

__all__ = ["Batch", "run_each"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Batch(Generic[T, R]):
    """What `run_each` ran: `results[i]` is the result of `ran[i]`, in the items' order;
    `not_run` are the items the time budget left unstarted."""

    ran: list[T]
    results: list[R]
    not_run: list[T]


def run_each(
    work: Callable[[T], R],
    items: Sequence[T],
    *,
    parallel: int = 1,
    time_budget: float | None = None,
    on_start: Callable[[T], None] | None = None,
    on_result: Callable[[T, R], None] | None = None,
    longest: Callable[[T], float] | None = None,
) -> Batch[T, R]:
    """Call `work(item)` for every item, at most `parallel` at once.

    Args:
        parallel: units at once; 1 (default) runs them in this process, in order.
        longest: with `parallel` > 1, an estimate of each unit's length: the longest start
            first, so that the short ones fill the gaps at the end instead of one long unit
            running alone (results still come back in the items' order).
        time_budget: seconds from now after which no further unit starts (those running
            finish); None: no limit.
        on_start / on_result: called in this process as each unit starts and ends (in the
            order they do), for progress lines.

    An exception `work` raises propagates (once the units already running have finished);
    give `work` its own error handling when one unit's failure must not stop the others.
    """
    deadline = time.monotonic() + time_budget if time_budget is not None else None

    def budget_left() -> bool:
        return deadline is None or time.monotonic() < deadline

    results: dict[int, R] = {}
    pending = list(enumerate(items))
    if parallel <= 1:
        while pending and budget_left():
            index, item = pending.pop(0)
            if on_start is not None:
                on_start(item)
            results[index] = work(item)
            if on_result is not None:
                on_result(item, results[index])
    else:
        if longest is not None:
            pending.sort(key=lambda entry: -longest(entry[1]))  # stable: ties keep their order
        with ProcessPoolExecutor(
            max_workers=parallel,
            mp_context=_worker_context(work),
            initializer=_start_worker,
            initargs=(
                dict(os.environ),
                (os.getpid(), psutil.Process().create_time()),
                _Stdio(),
            ),
        ) as pool:
            running: dict[Future[R], tuple[int, T]] = {}
            try:
                while pending or running:
                    while pending and len(running) < parallel and budget_left():
                        index, item = pending.pop(0)
                        if on_start is not None:
                            on_start(item)
                        running[pool.submit(work, item)] = (index, item)
                    if not running:
                        break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=lambda f: running[f][0]):
                        index, item = running.pop(future)
                        results[index] = future.result()
                        if on_result is not None:
                            on_result(item, results[index])
            except BaseException:
                # nothing new starts; the pool's exit waits for the units running (each
                # tears its own system down, also on Ctrl-C, which reaches the workers too)
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    order = sorted(results)
    return Batch(
        ran=[items[i] for i in order],
        results=[results[i] for i in order],
        not_run=[item for _, item in sorted(pending, key=lambda entry: entry[0])],
    )


def _worker_context(work: Callable[..., object]) -> multiprocessing.context.BaseContext:
    """Workers forked by multiprocessing's fork server, which imports the caller's main
    module and `work`'s module before its first fork (later pools of this process reuse it:
    what it lacks, their workers import themselves)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", _module_of(work)])
    return context


def _module_of(work: Callable[..., object]) -> str:
    """The module defining `work` (a function, a bound method, or a partial of either)."""
    while isinstance(work, partial):
        work = work.func
    return getattr(work, "__module__", None) or __name__


class _Stdio:
    """This process's stdout and stderr as they are when a worker starts, handed to it (their
    descriptors travel with the worker's start): a fork server's worker would otherwise write
    where this process wrote when it started its first pool (a test's capture long gone)."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        from multiprocessing import reduction

        return (_inherited, tuple(reduction.DupFd(fd) if _is_open(fd) else None for fd in (1, 2)))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _inherited(*descriptors: Any) -> list[int | None]:
    return [None if descriptor is None else descriptor.detach() for descriptor in descriptors]


def _start_worker(environment: dict[str, str], creator: tuple[int, float], stdio: Any) -> None:
    """In a worker: the environment, stdout and stderr the pool's creator has, not the fork
    server's (those of when this process first started a pool); and a watch on the creator.
    `stdio` is a `_Stdio` where it is sent, and arrives as its descriptors."""
    os.environ.clear()
    os.environ.update(environment)
    for target, stream, fd in zip((1, 2), (sys.stdout, sys.stderr), stdio, strict=True):
        if fd is not None and fd != target:
            stream.flush()
            os.dup2(fd, target)
            os.close(fd)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in a script's background
        signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(
        target=_interrupt_when_gone, args=creator, name="creator-watch", daemon=True
    ).start()


def _interrupt_when_gone(pid: int, create_time: float, every: float = 1.0) -> None:
    """Once the pool's creator is gone (killed, or ended by a SIGTERM it does not handle),
    interrupt this worker as Ctrl-C would, again until it ends: its unit undoes its faults
    and stops its system, and a worker blocked handing a result to nobody gives up. Without
    it, workers ran on and then waited forever, their systems still up."""
    from harness.runtime.processes import same_process

    while same_process(pid, create_time):
        time.sleep(every)
    while True:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(every)
