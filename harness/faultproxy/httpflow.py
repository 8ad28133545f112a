"""HTTP on one proxied connection: where the HTTP toxics act and forwarded requests are counted.

A connection only gets an `HttpFlow` while its proxy wants HTTP (an HTTP toxic is installed,
or request counting is on); otherwise its bytes take the link's fast path untouched. The flow
sits between each socket and its link: the client's bytes are cut into requests, the
upstream's into responses (httptools, i.e. llhttp), at their exact byte boundaries, so that
keep-alive connections (several requests, some matched, some not), chunked bodies and even
pipelined requests work. What is forwarded is the original bytes, never a re-serialisation.

Per request, at the end of its head, the HTTP toxics decide (see `toxics.http_base`):
`http_error` swallows the request and queues its answer in response order; `http_drop`
forwards it and, when its response begins, closes the client's connection; `http_delay`
forwards it and holds its response. Responses go through one ordered queue of bytes, holds
and closes, so HTTP/1.1's order is kept whatever the toxics do.

A flow added to a connection that is already open (a toxic added while clients keep pooled
connections) waits for a chunk that begins like a request line before parsing, and for a
response to a parsed request before parsing responses. A connection whose first bytes are not
HTTP, or whose bytes stop parsing as HTTP, passes untouched from then on. Once the proxy no
longer wants HTTP, the flow leaves at the next point where no exchange is in flight, and the
connection is back on the fast path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import httptools

from harness.faultproxy.request_log import RequestLog
from harness.faultproxy.toxics import HttpDelayToxic, HttpDropToxic, HttpErrorToxic, HttpToxic

if TYPE_CHECKING:
    from harness.faultproxy.link import Side
    from harness.faultproxy.toxic_collection import ToxicWrapper

__all__ = ["HOLD_HTTP", "Framer", "HttpFlow", "RequestFramer"]

log = logging.getLogger("harness.faultproxy")

HOLD_HTTP = 16  # Side.hold reason: held responses are queued past OUT_LIMIT
# Per connection, so kept small: a load test may hold thousands of connections.
OUT_LIMIT = 256 * 1024  # bytes of responses queued (behind a delay) before the upstream pauses
RETAIN_LIMIT = 64 * 1024  # bytes of one message kept to find its end in a pipelined chunk
HEAD_LIMIT = 64 * 1024  # bytes of a request head held before giving up on HTTP
_REQUEST_START = re.compile(rb"[A-Z]+ ")
_RESPONSE_START = b"HTTP/"


class NotHttp(Exception):
    """The bytes stopped parsing as HTTP/1.x (or the connection switched protocols)."""


class _StopAtHead(Exception):
    """Raised from a head callback: this message has no body (a response to HEAD)."""


class _Message:
    __slots__ = (
        "actions",
        "complete",
        "discard",
        "ends_at_head",
        "exchange",
        "head_done",
        "headers",
        "held",
        "keep_alive",
        "method",
        "retained",
        "status",
        "upgrade",
        "url",
    )

    def __init__(self) -> None:
        self.upgrade = False
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.method = ""
        self.status = 0
        self.keep_alive = True
        self.head_done = False
        self.ends_at_head = False
        self.complete = False
        self.retained: bytearray | None = bytearray()
        self.held: list[bytes] = []  # bytes read before the head was decided
        self.exchange: _Exchange | None = None
        self.actions: list[_Hold | _Marker] = []  # queued before the message's bytes
        self.discard = False


class _Probe:
    """Parser protocol that only notes whether a message completed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False

    def on_message_complete(self) -> None:
        self.done = True


class Framer:
    """One direction's bytes cut into HTTP messages at their exact boundaries.

    `on_head(message)` runs when a message's head is parsed; it returns True when the message
    ends there (a response to HEAD, which llhttp cannot know). `feed` returns the chunk as
    `(message, bytes)` parts in order; `None` marks bytes outside any message.
    """

    def __init__(
        self,
        parser_type: type[httptools.HttpRequestParser] | type[httptools.HttpResponseParser],
        on_head: Callable[[_Message], bool],
    ) -> None:
        self._type = parser_type
        self._parser = parser_type(self)
        self._on_head = on_head
        self.current: _Message | None = None
        self.upgraded = False  # an Upgrade or CONNECT went through: the rest is not HTTP/1.x
        self._touched: list[_Message] = []

    # -- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        message = _Message()
        self.current = message
        self._touched.append(message)

    def on_headers_complete(self) -> None:
        message = self.current
        assert message is not None
        parser = self._parser
        if isinstance(parser, httptools.HttpRequestParser):
            message.method = parser.get_method().decode("latin-1")
        else:
            message.status = parser.get_status_code()
        message.keep_alive = parser.should_keep_alive()
        message.upgrade = parser.should_upgrade()
        message.head_done = True
        if self._on_head(message):
            message.ends_at_head = message.complete = True
            self.current = None
            raise _StopAtHead

    def on_message_complete(self) -> None:
        if self.current is not None:
            self.current.complete = True
            self.current = None

    # -- cutting ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[tuple[_Message | None, bytes]]:
        touched = self._touched = [self.current] if self.current is not None else []
        stopped = False  # a message ended at its head: the parser was aborted there
        upgrade_at: int | None = None  # the connection switches protocols from here
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _StopAtHead):
                raise NotHttp(str(exc)) from exc
            stopped = True
        except httptools.HttpParserUpgrade as exc:
            upgrade_at = int(exc.args[0]) if exc.args else len(data)
            self.upgraded = True
        except httptools.HttpParserError as exc:
            raise NotHttp(str(exc) or type(exc).__name__) from exc
        if not touched:
            return [(None, data)]
        if len(touched) == 1 and not stopped and upgrade_at is None:
            self._retain(touched[0], data)
            return [(touched[0], data)]
        parts: list[tuple[_Message | None, bytes]] = []
        pos = 0
        for i, message in enumerate(touched):
            last = i == len(touched) - 1
            if last and upgrade_at is not None:
                end = upgrade_at
            elif last and not stopped:
                end = len(data)  # the last one takes the rest
            else:
                end = self._end(message, data, pos)
            part = data[pos:end]
            self._retain(message, part)
            parts.append((message, part))
            pos = end
        if upgrade_at is not None:
            if pos < len(data):
                parts.append((None, data[pos:]))  # no longer HTTP/1.x
        elif stopped:
            self._parser = self._type(self)  # the aborted parser cannot go on
            if pos < len(data):
                parts += self.feed(data[pos:])
        return parts

    def _retain(self, message: _Message, part: bytes) -> None:
        kept = message.retained
        if kept is None or message.complete or len(kept) + len(part) > RETAIN_LIMIT:
            message.retained = None
        else:
            kept += part

    def _end(self, message: _Message, data: bytes, pos: int) -> int:
        """Where in `data` `message` (which completed in this chunk, from `pos`) ends."""
        prefix = message.retained
        if prefix is None:
            raise NotHttp("a pipelined message too long to cut")
        rest = data[pos:]
        if message.ends_at_head:
            found = (bytes(prefix) + rest).find(b"\r\n\r\n")
            if found < 0:
                raise NotHttp("head without an end")
            return pos + found + 4 - len(prefix)
        # The smallest prefix a fresh parser completes the message with (rare: pipelining).
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._completes(bytes(prefix) + rest[:mid]):
                hi = mid
            else:
                lo = mid + 1
        return pos + lo

    def _completes(self, data: bytes) -> bool:
        probe = _Probe()
        with contextlib.suppress(httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._type(probe).feed_data(data)
        return probe.done


class RequestFramer(Framer):
    """A framer of requests, which also keeps each request's target and headers (llhttp
    only calls back for what the protocol object has, so responses skip them)."""

    def __init__(self, on_head: Callable[[_Message], bool]) -> None:
        super().__init__(httptools.HttpRequestParser, on_head)

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.current is not None
        self.current.headers.append((name, value))


class _Exchange:
    """One request and what the toxics decided for it."""

    __slots__ = (
        "answer",
        "answer_early",
        "claimed",
        "delays",
        "drop",
        "head",
        "keep_alive",
        "request_done",
    )

    def __init__(self, *, head: bool, keep_alive: bool) -> None:
        self.head = head
        self.keep_alive = keep_alive
        self.answer: bytes | None = None  # http_error: the response sent instead
        self.answer_early = False  # answer at the head (the client waits for 100 Continue)
        self.drop: ToxicWrapper | None = None
        self.delays: list[tuple[ToxicWrapper, float]] = []
        self.request_done = False
        self.claimed = False  # a final response has begun for it


def _expects_continue(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"expect" and value.strip().lower() == b"100-continue"
        for name, value in headers
    )


class _Hold:
    """Responses behind this point wait until `until` while one of `wrappers` is installed."""

    __slots__ = ("until", "wrappers")

    def __init__(self, until: float, wrappers: list[ToxicWrapper]) -> None:
        self.until = until
        self.wrappers = wrappers

    def active(self) -> bool:
        return any(not w.removed for w in self.wrappers)


class _Marker:
    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


DROP: Final = _Marker("DROP")  # close the client's connection, discard the response
CLOSE: Final = _Marker("CLOSE")  # end the client's connection after what came before


class _Tap:
    """What a `Side` calls instead of its link while a flow is attached."""

    __slots__ = ("end", "feed")

    def __init__(self, feed: Callable[[bytes], None], end: Callable[[], None]) -> None:
        self.feed = feed
        self.end = end


class HttpFlow:
    """The HTTP exchanges of one connection (see the module docstring)."""

    def __init__(
        self,
        *,
        client: Side,
        upstream: Side,
        toxics: Callable[[], list[ToxicWrapper]],
        requests: RequestLog,
        rng: random.Random,
        wanted: Callable[[], bool],
        on_detach: Callable[[], None],
        fresh: bool,
    ) -> None:
        self.client = client
        self.upstream = upstream
        self._toxics = toxics
        self._log = requests
        self._rng = rng
        self._wanted = wanted
        self._on_detach = on_detach
        self._fresh = fresh  # attached at accept: bytes that are not HTTP mean "never HTTP"
        self._requests = RequestFramer(self._request_head)
        self._responses = Framer(httptools.HttpResponseParser, self._response_head)
        self._requests_started = False
        self._responses_started = False
        self._exchanges: deque[_Exchange] = deque()
        self._out: deque[bytes | _Hold | _Marker] = deque()
        self._out_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._holding: _Hold | None = None
        self._raw = False
        self._answered_upgrade = False
        self._dropped = False
        self._upstream_ended = False
        self._downstream_ended = False
        self.detached = False
        client.http = _Tap(self._request_data, self._request_end)
        upstream.http = _Tap(self._response_data, self._response_end)

    # -- requests (client -> upstream) -----------------------------------------------------

    def _request_data(self, data: bytes) -> None:
        if self._answered_upgrade:
            return  # the upstream never saw that handshake: what follows has nowhere to go
        if self._raw:
            self.client.deliver(data)
            return
        if self._idle() and not self._wanted():
            self._detach()
            self.client.deliver(data)
            return
        if not self._requests_started:
            if _REQUEST_START.match(data) is None:
                if self._fresh:
                    self._go_raw()
                self.client.deliver(data)
                return
            self._requests_started = True
        try:
            parts = self._requests.feed(data)
        except NotHttp as exc:
            log.info("connection stops parsing HTTP requests: %s", exc)
            self._go_raw()
            self.client.deliver(data)
            return
        for message, part in parts:
            self._request_part(message, part)
        if self._requests.upgraded:
            if not self._answered_upgrade:
                self._go_raw()  # what follows the Upgrade / CONNECT request is not HTTP/1.x
            return
        current = self._requests.current
        if current is not None and sum(map(len, current.held)) > HEAD_LIMIT:
            self._go_raw()  # a request head that does not end

    def _request_part(self, message: _Message | None, part: bytes) -> None:
        if message is None:
            if not self._answered_upgrade:
                self.client.deliver(part)
            return
        exchange = message.exchange
        if exchange is None:  # its head is not complete yet
            message.held.append(part)
            return
        if exchange.answer is None:  # forwarded (an answered request is swallowed)
            for held in message.held:
                self.client.deliver(held)
            self.client.deliver(part)
        message.held.clear()
        if message.complete or exchange.answer_early:
            exchange.request_done = True
            self._answer_ready()

    def _request_head(self, message: _Message) -> bool:
        target = message.url.decode("latin-1")
        exchange = _Exchange(head=message.method == "HEAD", keep_alive=message.keep_alive)
        for wrapper in self._toxics():
            toxic = wrapper.toxic
            assert isinstance(toxic, HttpToxic)
            if not toxic.matches(message.method, target):
                continue
            if toxic.first and wrapper.applied >= toxic.first:
                continue
            if wrapper.toxicity < 1 and self._rng.random() >= wrapper.toxicity:
                continue
            wrapper.applied += 1
            if isinstance(toxic, HttpErrorToxic):
                if message.upgrade:
                    # Refused: the client must not go on in the new protocol; close after.
                    exchange.keep_alive = False
                    self._answered_upgrade = True
                if _expects_continue(message.headers):
                    # The body will not come before a 100: answer now, then close, since
                    # whether the client sends the body anyway is up to the client.
                    exchange.answer_early = True
                    exchange.keep_alive = False
                exchange.answer = toxic.response(head=exchange.head, keep_alive=exchange.keep_alive)
                break
            if isinstance(toxic, HttpDropToxic):
                exchange.drop = wrapper
            elif isinstance(toxic, HttpDelayToxic):
                exchange.delays.append((wrapper, toxic.delay(self._rng)))
        if exchange.answer is None and self._log.enabled:
            self._log.record(message.method, target, message.headers)
        message.exchange = exchange
        self._exchanges.append(exchange)
        return False

    def _request_end(self) -> None:
        current = self._requests.current
        if current is not None and current.held and not self._raw:
            for held in current.held:  # a head that never completed: pass it on as it was
                self.client.deliver(held)
            current.held.clear()
        link = self.client.reader
        if link is not None:
            link.source_ended()

    def _answer_ready(self) -> None:
        """Queue the answers of `http_error` requests that are next in response order."""
        exchanges = self._exchanges
        while exchanges and exchanges[0].answer is not None and exchanges[0].request_done:
            exchange = exchanges.popleft()
            assert exchange.answer is not None
            self._push(exchange.answer)
            if not exchange.keep_alive:
                self._push(CLOSE)

    # -- responses (upstream -> client) ----------------------------------------------------

    def _response_data(self, data: bytes) -> None:
        if self._dropped:
            return
        if self._raw:
            self._push(data)
            return
        if not self._responses_started:
            awaited = any(e.answer is None for e in self._exchanges)
            if not awaited or not data.startswith(_RESPONSE_START):
                self._push(data)  # not an answer to a parsed request
                return
            self._responses_started = True
        try:
            parts = self._responses.feed(data)
        except NotHttp as exc:
            log.info("connection stops parsing HTTP responses: %s", exc)
            self._go_raw()
            self._push(data)
            return
        for message, part in parts:
            self._response_part(message, part)
            if self._dropped:
                return

    def _response_part(self, message: _Message | None, part: bytes) -> None:
        if message is None:
            self._push(part)
            return
        if message.actions:
            for action in message.actions:
                self._push(action)
            message.actions.clear()
        if not message.discard:
            self._push(part)
        if message.complete and message.status == 101:
            self._go_raw()  # switched protocols: what follows is not HTTP/1.x
        elif message.complete and message.status >= 200:
            exchange = message.exchange
            if exchange is not None and exchange in self._exchanges:
                self._exchanges.remove(exchange)
            self._answer_ready()

    def _response_head(self, message: _Message) -> bool:
        # Heads are parsed before the parts of the chunk are handled: responses earlier in
        # the same chunk have claimed their exchange but not yet removed it.
        exchange = next((e for e in self._exchanges if e.answer is None and not e.claimed), None)
        message.exchange = exchange
        if exchange is None or message.status < 200:
            return False
        exchange.claimed = True
        if exchange.drop is not None and not exchange.drop.removed:
            message.actions.append(DROP)
            message.discard = True
        else:
            delays = [(w, d) for w, d in exchange.delays if not w.removed]
            if delays:
                until = time.monotonic() + sum(d for _, d in delays)
                message.actions.append(_Hold(until, [w for w, _ in delays]))
        return exchange.head

    def _response_end(self) -> None:
        self._upstream_ended = True
        self._pump()

    # -- the ordered response queue --------------------------------------------------------

    def _push(self, item: bytes | _Hold | _Marker) -> None:
        if isinstance(item, bytes):
            if not item:
                return
            if not self._out and self._timer is None:
                self.upstream.deliver(item)  # nothing queued: no queue
                return
            self._out_bytes += len(item)
        self._out.append(item)
        self._pump()

    def _pump(self) -> None:
        out = self._out
        while out and self._timer is None:
            item = out[0]
            if isinstance(item, _Hold):
                remaining = item.until - time.monotonic()
                if remaining > 0 and item.active():
                    self._holding = item
                    self._timer = asyncio.get_running_loop().call_later(remaining, self._hold_over)
                    break
                out.popleft()
                continue
            out.popleft()
            if item is DROP:
                self._drop()
                return
            if item is CLOSE:
                self._end_downstream()
                continue
            assert isinstance(item, bytes)
            self._out_bytes -= len(item)
            self.upstream.deliver(item)
        self.upstream.hold(HOLD_HTTP, self._out_bytes > OUT_LIMIT)
        if not out and self._timer is None:
            if self._upstream_ended:
                self._end_downstream()
            elif self._raw:
                self._detach()

    def _hold_over(self) -> None:
        self._timer = None
        self._holding = None
        if self._out and isinstance(self._out[0], _Hold):
            self._out.popleft()
        self._pump()

    def toxics_changed(self) -> None:
        """A toxic was added, updated or removed: a removed `http_delay` releases its hold."""
        holding = self._holding
        if holding is not None and not holding.active() and self._timer is not None:
            self._timer.cancel()
            self._hold_over()

    def _drop(self) -> None:
        """`http_drop`: the response began; the client's connection closes without it."""
        self._dropped = True
        self._out.clear()
        self._out_bytes = 0
        self.upstream.hold(HOLD_HTTP, False)
        self.upstream.close()
        self._end_downstream()

    def _end_downstream(self) -> None:
        if self._downstream_ended:
            return
        self._downstream_ended = True
        link = self.upstream.reader
        if link is not None:
            link.source_ended()

    # -- leaving ---------------------------------------------------------------------------

    def _idle(self) -> bool:
        return (
            self._requests.current is None
            and not self._exchanges
            and not self._out
            and self._timer is None
        )

    def _go_raw(self) -> None:
        """Stop parsing: pass everything on as it comes (after what is queued)."""
        if self._raw:
            return
        self._raw = True
        current = self._requests.current
        if current is not None and current.exchange is None:
            for held in current.held:
                self.client.deliver(held)
            current.held.clear()
        if not self._out and self._timer is None:
            self._detach()

    def _detach(self) -> None:
        if self.detached:
            return
        self.detached = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.upstream.hold(HOLD_HTTP, False)
        for side in (self.client, self.upstream):
            side.http = None
            if side.reader is not None:
                side.reader.refresh_fast_path()
        self._on_detach()
