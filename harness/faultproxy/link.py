"""One direction of one proxied connection: its socket sides and its toxic chain.

A `Side` is the asyncio protocol of one socket (the client's or the upstream's). A `Link`
moves bytes from a source side to a destination side, in one of two modes:

* **fast** (no toxic on this direction): the source's `data_received` writes straight into
  the destination transport, and the destination's `pause_writing` / `resume_writing` pause
  and resume reading the source. No task, no queue, no per-chunk allocation.
* **chain** (at least one toxic): the real server's pipeline. Chunks (at most 32 KiB, stamped
  with their read time) enter a hidden `noop` stage, go through one `Stub` per toxic, and a
  writer task copies what comes out to the destination. Reading the source pauses while the
  chain's input is full.

Toxics added, updated or removed through the API are applied to live links exactly as the
real server's `ToxicLink` does: the neighbouring stages are interrupted, rewired and re-run
(each re-run draws its toxicity again), and removing a toxic flushes what it held. When the
last toxic of a direction is removed, the link drains its chain and returns to the fast path.

Like the real server, a link does not half-close: when its source ends, everything in flight
is delivered and then the destination socket is closed for good.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol, cast

from harness.faultproxy.stream import EMPTY, Chan, Chunk, Stub
from harness.faultproxy.toxics import NOOP

if TYPE_CHECKING:
    from harness.faultproxy.toxic_collection import ToxicWrapper

__all__ = ["Direction", "Link", "Side"]

log = logging.getLogger("harness.faultproxy")

READ_CHUNK = 32 * 1024  # the real server reads (and so chunks) 32 KiB at a time
INPUT_CAPACITY = 4  # chunks queued before the chain's first stage pauses the socket
REMOVE_FLUSH_TIMEOUT = 5.0  # the real server gives up on a flushed chunk after 5 s

# Reasons a side stops reading; it reads again when none is left.
HOLD_DIAL = 1  # the upstream connection is not open yet
HOLD_DEST = 2  # fast path: the destination's write buffer is full
HOLD_CHAIN = 4  # chain: its first stage is full
HOLD_EARLY = 8  # data arrived before the link was attached
# 16 is HOLD_HTTP (harness.faultproxy.httpflow)


class HttpTap(Protocol):
    """Where a side's bytes go while its connection parses HTTP (an `HttpFlow`)."""

    def feed(self, data: bytes) -> None: ...

    def end(self) -> None: ...


class Direction(IntEnum):
    UPSTREAM = 0  # client -> server
    DOWNSTREAM = 1  # server -> client

    def __str__(self) -> str:
        return self.name.lower()


def _wake(fut: asyncio.Future[None] | None) -> None:
    if fut is not None and not fut.done():
        fut.set_result(None)


class Side(asyncio.Protocol):
    """The protocol of one socket of a proxied connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.fast_dest: asyncio.Transport | None = None  # fast path: where our bytes go
        self.reader: Link | None = None  # the link whose source we are
        self.writer: Link | None = None  # the link whose destination we are
        self.write_paused = False
        self.lost = False
        self.on_lost: Callable[[Side], None] | None = None
        self.http: HttpTap | None = None  # set while an HttpFlow parses this connection
        self._holds = 0
        self._writable: asyncio.Future[None] | None = None
        self._early: list[bytes] = []  # read before a link was attached
        self._early_eof = False

    # -- asyncio callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        dest = self.fast_dest
        if dest is not None:
            dest.write(data)
        elif self.http is not None:
            self.http.feed(data)
        elif self.reader is not None:
            self.reader.feed(data)
        else:
            # uvloop starts reading an accepted socket even when connection_made paused it:
            # keep what arrives before the upstream is connected, and pause now.
            self._early.append(data)
            self._holds |= HOLD_EARLY
            if self.transport is not None:
                self.transport.pause_reading()

    def eof_received(self) -> bool:
        if self.http is not None:
            self.http.end()
        elif self.reader is not None:
            self.reader.source_ended()
        else:
            self._early_eof = True
        return True  # the link decides when to close (after what it holds is delivered)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.fast_dest = None
        if self.writer is not None:
            self.writer.source.fast_dest = None  # nowhere to write: drop what still comes
        _wake(self._writable)
        if self.http is not None:
            self.http.end()
        elif self.reader is not None:
            self.reader.source_ended()
        if self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        self.write_paused = True
        link = self.writer
        if link is not None and link.fast:
            link.source.hold(HOLD_DEST, True)

    def resume_writing(self) -> None:
        self.write_paused = False
        _wake(self._writable)
        link = self.writer
        if link is not None and link.fast:
            link.source.hold(HOLD_DEST, False)

    # -- used by links --------------------------------------------------------------------

    def deliver(self, data: bytes) -> None:
        """Bytes of this side, past its HTTP flow, into its link (fast path or chain)."""
        link = self.reader
        if link is None or link.done:
            return
        if not link.fast:
            link.feed(data)
            return
        dest = link.dest
        if not dest.lost and dest.transport is not None:
            dest.transport.write(data)

    @property
    def has_unread(self) -> bool:
        """Data was read before any link took it (what the real server would not have read)."""
        return bool(self._early)

    def replay_early(self) -> None:
        """Pass on what was read before the link existed."""
        early, self._early = self._early, []
        for data in early:
            self.data_received(data)
        if self._early_eof or self.lost:
            if self.http is not None:
                self.http.end()
            elif self.reader is not None:
                self.reader.source_ended()
        self.hold(HOLD_EARLY, False)

    def hold(self, reason: int, on: bool) -> None:
        """Stop (`on`) or allow reading for one reason; reading resumes when none is left."""
        old = self._holds
        new = old | reason if on else old & ~reason
        self._holds = new
        if bool(old) == bool(new):
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if new:
            transport.pause_reading()
        else:
            transport.resume_reading()

    async def writable(self) -> None:
        """Wait until the write buffer has drained below its low-water mark (or we are gone)."""
        while self.write_paused and not self.lost:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._writable = fut
            try:
                await fut
            finally:
                self._writable = None

    def set_linger_zero(self) -> None:
        """Make the coming close a TCP RST (SO_LINGER on, 0 s)."""
        transport = self.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError as exc:
            log.warning("cannot set SO_LINGER 0: %s", exc)

    def close(self) -> None:
        """Close after the write buffer drains (Go's Close after the last Write)."""
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def _wait_chan_or_task(chan: Chan, task: asyncio.Future[bool] | None) -> None:
    """Wait until `chan` has something to read (or closes), or `task` finishes."""
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(_: object) -> None:
        _wake(fut)

    chan.watch(fut)
    if task is not None:
        task.add_done_callback(done)
    try:
        await fut
    finally:
        chan.unwatch(fut)
        if task is not None:
            task.remove_done_callback(done)


class Link:
    """Bytes from `source` to `dest`, through this direction's toxics."""

    def __init__(
        self,
        *,
        direction: Direction,
        source: Side,
        dest: Side,
        rng: random.Random,
        on_done: Callable[[Link], None],
    ) -> None:
        self.direction = direction
        self.source = source
        self.dest = dest
        self.rng = rng
        self.fast = True
        self.done = False  # the destination was closed (or the link torn down)
        self.source_done = False
        self.stubs: list[Stub] = []
        self._on_done = on_done
        self._input: Chan | None = None
        self._output: Chan | None = None
        self._writer: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()

    def start(self, chain: Sequence[ToxicWrapper]) -> None:
        """Set up moving data; `chain` is this direction's toxics behind the hidden noop.
        Reading begins with `begin_reading`, once both links of the connection are set up
        (an HTTP flow may answer a request read early through the other link)."""
        self.source.reader = self
        self.dest.writer = self
        if len(chain) > 1:
            self._enter_chain(chain)
        else:
            self._enter_fast()

    def begin_reading(self) -> None:
        self.source.replay_early()

    # -- data path --------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes read from the source (chain mode)."""
        chan = self._input
        if chan is None:
            return  # torn down, or the destination is gone
        now = time.monotonic()
        if len(data) <= READ_CHUNK:
            chan.put_nowait(Chunk(data, now))
        else:
            for offset in range(0, len(data), READ_CHUNK):
                chan.put_nowait(Chunk(data[offset : offset + READ_CHUNK], now))
        if len(chan) >= chan.capacity:
            self.source.hold(HOLD_CHAIN, True)

    def source_ended(self) -> None:
        """End of input (EOF, error, or the source socket was closed)."""
        if self.source_done:
            return
        self.source_done = True
        if self.done:
            return
        if self.fast:
            self._finish()
        elif self._input is not None:
            self._input.close()

    def stop(self) -> None:
        """Tear down at once (the connection is gone): cancel every stage and the writer."""
        if self._writer is not None:
            self._writer.cancel()
        for stub in self.stubs:
            stub.kill()
        self.source.fast_dest = None
        self._input = None
        if not self.done:
            self.done = True
            self._on_done(self)

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        self.source.fast_dest = None
        self.dest.close()
        self._on_done(self)

    def _input_has_room(self) -> None:
        self.source.hold(HOLD_CHAIN, False)

    async def _write_loop(self, chan: Chan) -> None:
        dest = self.dest
        while True:
            chunk = chan.get_nowait()
            if chunk is EMPTY:
                await chan.wait_readable()
                continue
            if chunk is None:
                break
            assert isinstance(chunk, Chunk)
            transport = dest.transport
            if dest.lost or transport is None or transport.is_closing():
                continue  # nowhere to write: drop, and let the chain run to its end
            transport.write(chunk.data)
            if dest.write_paused:
                await dest.writable()
        self._writer = None
        self._finish()

    # -- modes ------------------------------------------------------------------------

    def refresh_fast_path(self) -> None:
        """An HTTP flow came or went: bytes go straight to the destination only without one."""
        if self.fast and not self.done:
            source = self.source
            lost = self.dest.lost or source.http is not None
            source.fast_dest = None if lost else self.dest.transport

    def _enter_fast(self) -> None:
        self.fast = True
        self.stubs = []
        self._input = self._output = None
        self._writer = None
        source = self.source
        bypass = self.dest.lost or source.http is not None
        source.fast_dest = None if bypass else self.dest.transport
        source.hold(HOLD_CHAIN, False)
        source.hold(HOLD_DEST, self.dest.write_paused)

    def _enter_chain(self, chain: Sequence[ToxicWrapper]) -> None:
        self.fast = False
        source = self.source
        source.fast_dest = None
        source.hold(HOLD_DEST, False)
        first = Chan(INPUT_CAPACITY)
        first.on_space = self._input_has_room
        # The channel feeding a toxic has that toxic's buffer size; the last one feeds the writer.
        chans = [first, *(Chan(w.toxic.BUFFER_SIZE) for w in chain[1:]), Chan(1)]
        self.stubs = [Stub(chans[i], chans[i + 1], self.rng) for i in range(len(chain))]
        self._input, self._output = chans[0], chans[-1]
        for stub, wrapper in zip(self.stubs, chain, strict=True):
            stub.state = wrapper.toxic.new_state()
            self._run(stub, wrapper)
        self._writer = self._loop.create_task(self._write_loop(chans[-1]))

    def _run(self, stub: Stub, wrapper: ToxicWrapper) -> None:
        # Toxicity is drawn each time a stage (re)starts, as in the real server.
        stub.run(wrapper.toxic if self.rng.random() < wrapper.toxicity else NOOP)

    async def _leave_chain(self) -> None:
        """Only the hidden noop is left: deliver what is queued and go back to the fast path."""
        noop = self.stubs[0]
        if not await noop.interrupt():
            return  # end of input already went through; the chain finishes by itself
        writer = self._writer
        if writer is not None:
            writer.cancel()
            await asyncio.wait((writer,))
        if self.done:
            return  # torn down meanwhile
        assert self._input is not None
        assert self._output is not None
        # Oldest first: what waits for the writer, then what waits for the noop.
        pending = self._output.drain() + self._input.drain()
        transport = self.dest.transport
        if transport is not None and not self.dest.lost:
            for chunk in pending:
                transport.write(chunk.data)
        self._enter_fast()
        if self.source_done:
            self._finish()

    # -- toxics changed through the API (ports of ToxicLink.AddToxic/UpdateToxic/RemoveToxic)

    async def add_toxic(self, wrapper: ToxicWrapper, chain: Sequence[ToxicWrapper]) -> None:
        """`wrapper` was appended to this direction; `chain` is the chain including it."""
        if self.done:
            return
        if self.fast:
            if not self.source_done:
                self._enter_chain(chain)
            return
        i = len(self.stubs)
        last = self.stubs[i - 1]
        new_input = Chan(wrapper.toxic.BUFFER_SIZE)
        stub = Stub(new_input, last.output, self.rng)
        self.stubs.append(stub)
        if await last.interrupt() and not self.done:
            last.output = new_input
            stub.state = wrapper.toxic.new_state()
            self._run(stub, wrapper)
            self._run(last, chain[i - 1])
        else:
            # The link is closing; make the new stage match.
            stub.output = new_input
            stub.close()

    async def update_toxic(self, wrapper: ToxicWrapper) -> None:
        if self.done or self.fast:
            return
        stub = self.stubs[wrapper.index]
        if await stub.interrupt() and not self.done:
            self._run(stub, wrapper)

    async def remove_toxic(self, wrapper: ToxicWrapper, chain: Sequence[ToxicWrapper]) -> None:
        """`wrapper` (still holding its old index) was removed; `chain` is the chain without it."""
        if self.done or self.fast:
            return
        i = wrapper.index
        stub = self.stubs[i]
        if not await stub.interrupt() or self.done:
            return
        if wrapper.toxic.HAS_CLEANUP:
            wrapper.toxic.cleanup(stub)
            if stub.closed:
                return
        previous = self.stubs[i - 1]
        stopping = asyncio.ensure_future(previous.interrupt())
        if not await self._flush_until_stopped(stub, stopping) or self.done:
            return
        # Empty what the removed toxic had queued.
        while True:
            chunk = stub.input.get_nowait()
            if chunk is EMPTY:
                break
            if chunk is None:
                stub.close()
                return
            assert isinstance(chunk, Chunk)
            await self._forward(stub, chunk)
        if self.done:
            return
        previous.output = stub.output
        del self.stubs[i]
        self._run(previous, chain[i - 1])
        if len(self.stubs) == 1:
            await self._leave_chain()

    async def _flush_until_stopped(self, stub: Stub, stopping: asyncio.Future[bool]) -> bool:
        """Forward the removed stage's input until the previous stage has stopped.

        Returns False when end of input arrived instead (the stage is then closed).
        """
        stopped = False
        while True:
            chunk = stub.input.get_nowait()
            if chunk is None:
                stub.close()
                if not stopped:
                    await stopping
                return False
            if chunk is not EMPTY:
                assert isinstance(chunk, Chunk)
                await self._forward(stub, chunk)
                continue
            if not stopped and stopping.done():
                stopped = True
                if stopping.result():
                    return True
                continue  # the previous stage had closed: flush until end of input
            await _wait_chan_or_task(stub.input, None if stopped else stopping)

    async def _forward(self, stub: Stub, chunk: Chunk) -> None:
        try:
            await asyncio.wait_for(stub.output.put(chunk), REMOVE_FLUSH_TIMEOUT)
        except TimeoutError:
            log.warning("could not write last packets after interrupt to output; dropped")
