"""The pieces a toxic chain is built from: chunks, channels between stages, and stubs.

They mirror the real server's `stream` package and `ToxicStub`, on one asyncio event loop:
a `Chan` is a bounded FIFO with Go channel semantics as far as toxics use them (blocking put,
close, a closed-and-empty channel reads as `None`), and a `Stub` is the per-connection,
per-direction seat of one toxic, with Go's `select` patterns as methods (`recv` with an
optional timeout, `sleep`), all interruptible so the chain can be rewired while data flows.
No task is created per chunk: a waiting stage parks on one future that whoever can make
progress (a put, a close, a timer, an interrupt) completes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol

__all__ = [
    "EMPTY",
    "INTERRUPTED",
    "TIMED_OUT",
    "Chan",
    "Chunk",
    "PipeToxic",
    "Stub",
]

log = logging.getLogger("harness.faultproxy")


class Chunk:
    """Bytes read from a socket, with the `time.monotonic()` they were read at."""

    __slots__ = ("data", "timestamp")

    def __init__(self, data: bytes, timestamp: float) -> None:
        self.data = data
        self.timestamp = timestamp


class _Sentinel:
    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


EMPTY: Final = _Sentinel("EMPTY")  # nothing to read yet
INTERRUPTED: Final = _Sentinel("INTERRUPTED")  # the chain is being rewired: return from pipe()
TIMED_OUT: Final = _Sentinel("TIMED_OUT")  # recv(timeout=...) saw nothing in time


def _wake(fut: asyncio.Future[None] | None) -> None:
    if fut is not None and not fut.done():
        fut.set_result(None)


class Chan:
    """A bounded FIFO between two stages of a chain (Go channel semantics).

    `capacity` 0 (Go's unbuffered channel) is treated as 1. `on_space` is called when a
    full channel gets room again; the link uses it to resume reading its socket.
    """

    __slots__ = ("_items", "_readers", "_writers", "capacity", "closed", "on_space")

    def __init__(self, capacity: int) -> None:
        self._items: deque[Chunk] = deque()
        self._readers: list[asyncio.Future[None]] = []
        self._writers: list[asyncio.Future[None]] = []
        self.capacity = max(1, capacity)
        self.closed = False
        self.on_space: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, chunk: Chunk) -> None:
        """Append regardless of capacity (the socket reader; it pauses itself when full)."""
        if self.closed:
            return
        self._items.append(chunk)
        for fut in self._readers:
            _wake(fut)

    async def put(self, chunk: Chunk) -> None:
        """Append, waiting while the channel is full. A closed channel drops the chunk."""
        while len(self._items) >= self.capacity and not self.closed:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._writers.append(fut)
            try:
                await fut
            finally:
                if fut in self._writers:
                    self._writers.remove(fut)
        self.put_nowait(chunk)

    def get_nowait(self) -> Chunk | _Sentinel | None:
        """The oldest chunk; `None` once closed and empty; `EMPTY` when nothing is there yet."""
        items = self._items
        if items:
            was_full = len(items) >= self.capacity
            chunk = items.popleft()
            if self._writers:
                _wake(self._writers[0])
            if was_full and len(items) < self.capacity and self.on_space is not None:
                self.on_space()
            return chunk
        return None if self.closed else EMPTY

    def drain(self) -> list[Chunk]:
        """Take every queued chunk at once (used when a link leaves chain mode)."""
        items = list(self._items)
        self._items.clear()
        return items

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fut in (*self._readers, *self._writers):
            _wake(fut)

    def watch(self, fut: asyncio.Future[None]) -> None:
        """Complete `fut` at the next put or close."""
        self._readers.append(fut)

    def unwatch(self, fut: asyncio.Future[None]) -> None:
        if fut in self._readers:
            self._readers.remove(fut)

    async def wait_readable(self) -> None:
        if self._items or self.closed:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.watch(fut)
        try:
            await fut
        finally:
            self.unwatch(fut)


class PipeToxic(Protocol):
    """What a stage runs: reads `stub.input`, writes `stub.output`, returns on interrupt."""

    async def pipe(self, stub: Stub) -> None: ...


class Stub:
    """One toxic's seat in one link: its input and output channels, state and interrupts."""

    __slots__ = (
        "_interrupt",
        "_loop",
        "_took_interrupt",
        "_wake",
        "closed",
        "input",
        "output",
        "rng",
        "state",
        "task",
    )

    def __init__(self, input: Chan, output: Chan, rng: random.Random) -> None:
        self.input = input
        self.output = output
        self.rng = rng
        self.state: object = None
        self.closed = False
        self.task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._interrupt = False
        self._took_interrupt = False
        self._wake: asyncio.Future[None] | None = None

    # -- what toxics call -----------------------------------------------------------------

    def now(self) -> float:
        # Not loop.time(): uvloop's clock has millisecond steps and is cached per iteration.
        return time.monotonic()

    async def recv(self, give_up_after: float | None = None) -> Chunk | _Sentinel | None:
        """Next chunk, `None` at end of input, `INTERRUPTED`, or `TIMED_OUT` after
        `give_up_after` seconds without data (Go: `select` on Interrupt, Input, `time.After`)."""
        timer: asyncio.TimerHandle | None = None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            _wake(self._wake)

        try:
            while True:
                if self._interrupt:
                    return self._take_interrupt()
                chunk = self.input.get_nowait()
                if chunk is not EMPTY:
                    return chunk
                if expired:
                    return TIMED_OUT
                if give_up_after is not None and timer is None:
                    timer = self._loop.call_later(give_up_after, expire)
                await self._park(self.input)
        finally:
            if timer is not None:
                timer.cancel()

    async def next_chunk(self) -> Chunk | None:
        """The next chunk for a toxic that passes data on; None when it must return: when
        interrupted, or at end of input, which it passes on by closing (Go's `Pipe` loop)."""
        chunk = await self.recv()
        if chunk is None:
            self.close()
            return None
        if chunk is INTERRUPTED:
            return None
        assert isinstance(chunk, Chunk)
        return chunk

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; True when interrupted first (the toxic must then return)."""
        if self._interrupt:
            self._take_interrupt()
            return True
        deadline = time.monotonic() + seconds
        # uvloop timers have millisecond resolution and may fire up to 1 ms early: re-arm
        # until the deadline has really passed, so a delay is never shorter than asked.
        while (remaining := deadline - time.monotonic()) > 0:
            timer = self._loop.call_later(remaining, lambda: _wake(self._wake))
            try:
                await self._park(None)
            finally:
                timer.cancel()
            if self._interrupt:
                self._take_interrupt()
                return True
        return False

    async def hold(self) -> None:
        """Wait for an interrupt and nothing else (a stalled toxic)."""
        while not self._interrupt:
            await self._park(None)
        self._take_interrupt()

    async def send(self, chunk: Chunk) -> None:
        """Pass a chunk on; waits while the next stage is full (not interruptible, as in Go)."""
        await self.output.put(chunk)

    def close(self) -> None:
        """End this direction: downstream stages and then the writer see end of input."""
        if not self.closed:
            self.closed = True
            self.output.close()

    # -- what the link calls --------------------------------------------------------------

    def run(self, toxic: PipeToxic) -> None:
        self.task = self._loop.create_task(self._guarded(toxic))

    async def interrupt(self) -> bool:
        """Stop the running toxic so the chain can change. False if the stub is closed."""
        task = self.task
        if self.closed or task is None or task.done():
            return False
        self._took_interrupt = False
        self._interrupt = True
        _wake(self._wake)
        await asyncio.wait((task,))
        self._interrupt = False
        return self._took_interrupt

    def kill(self) -> None:
        """Tear down (connection gone): cancel the toxic and wake everyone waiting on us."""
        self.closed = True
        if self.task is not None:
            self.task.cancel()
        self.input.close()
        self.output.close()

    # -- internals ------------------------------------------------------------------------

    def _take_interrupt(self) -> _Sentinel:
        self._interrupt = False
        self._took_interrupt = True
        return INTERRUPTED

    async def _park(self, chan: Chan | None) -> None:
        fut: asyncio.Future[None] = self._loop.create_future()
        self._wake = fut
        if chan is not None:
            chan.watch(fut)
        try:
            await fut
        finally:
            self._wake = None
            if chan is not None:
                chan.unwatch(fut)

    async def _guarded(self, toxic: PipeToxic) -> None:
        try:
            await toxic.pipe(self)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A broken toxic ends its direction instead of stalling it forever.
            log.exception("toxic %r failed; closing its stream", toxic)
            self.close()
