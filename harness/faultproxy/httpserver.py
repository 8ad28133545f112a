"""A small HTTP/1.1 server on asyncio streams that frames responses like Go's `net/http`.

Clients of the real server see Go's framing: handler headers sorted by name, then `Date`, then
`Content-Length` (bodies over 2048 bytes are sent chunked instead, as Go does when a handler
writes more than its buffer), `Connection: close` when the connection ends after the reply,
and Go's canned answers to requests it cannot parse. Keep-alive, pipelining, HTTP/1.0,
`Expect: 100-continue` and chunked request bodies are supported; idle connections close after
60 s and a request must arrive within 15 s, the real server's timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

__all__ = ["BadRequest", "Request", "Response", "serve_connection"]

log = logging.getLogger("harness.faultproxy")

MAX_HEADER_BYTES = (1 << 20) + 4096  # Go's DefaultMaxHeaderBytes plus its slack
MAX_BODY_BYTES = 64 << 20  # not a Go limit: a guard for this server's memory
CHUNKING_THRESHOLD = 2048  # Go buffers this much before it must pick chunked encoding
IDLE_TIMEOUT = 60.0
READ_TIMEOUT = 15.0

REASONS = {
    100: "Continue",
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

_ERROR_HEADERS = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_HEAD_END = re.compile(rb"\r?\n\r?\n")


class BadRequest(Exception):
    """A request Go's server would refuse before any handler runs."""

    def __init__(self, status: int = 400, text: str = "") -> None:
        super().__init__(text or str(status))
        self.status = status
        self.text = text

    def raw(self) -> bytes:
        """Go's canned reply, byte for byte."""
        reason = REASONS.get(self.status, "")
        if self.status == 501:
            return f"HTTP/1.1 501 {reason}{_ERROR_HEADERS}Unsupported transfer encoding".encode()
        public = f"{self.status} {reason}" + (f": {self.text}" if self.text else "")
        return f"HTTP/1.1 {public}{_ERROR_HEADERS}{public}".encode()


@dataclass
class Request:
    method: str
    target: str  # the request-target as sent
    path: str  # percent-decoded path (Go's URL.Path)
    query: str
    minor: int  # HTTP/1.<minor>
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_tokens(self, name: str) -> set[str]:
        wanted = name.lower()
        tokens: set[str] = set()
        for key, value in self.headers:
            if key.lower() == wanted:
                tokens.update(t.strip().lower() for t in value.split(","))
        return tokens


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # canonical names
    body: bytes = b""


Handler = Callable[[Request], Awaitable[Response]]


class _DateCache:
    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = email.utils.formatdate(second, usegmt=True)
        return self._text


_DATES = _DateCache()


def _body_allowed(status: int) -> bool:
    return not (100 <= status < 200 or status in (204, 304))


def encode_response(
    request: Request, response: Response, *, keep_alive: bool
) -> tuple[bytes, bool]:
    """Serialize like Go's `net/http`. Returns the bytes and whether the connection stays
    open (an HTTP/1.0 reply of unknown length must end with the connection)."""
    status = response.status
    lines = [f"HTTP/1.{1 if request.minor >= 1 else 0} {status} {REASONS.get(status, '')}"]
    lines.extend(f"{name}: {response.headers[name]}" for name in sorted(response.headers))
    lines.append(f"Date: {_DATES.now()}")
    body = response.body
    chunked = False
    if _body_allowed(status):
        if len(body) <= CHUNKING_THRESHOLD:
            lines.append(f"Content-Length: {len(body)}")
        elif request.minor >= 1:
            chunked = True
        else:
            keep_alive = False  # HTTP/1.0 without a length: the close ends the body
    if request.minor >= 1:
        if not keep_alive:
            lines.append("Connection: close")
    elif keep_alive:
        lines.append("Connection: keep-alive")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, keep_alive


def wants_keep_alive(request: Request) -> bool:
    tokens = request.header_tokens("Connection")
    if request.minor >= 1:
        return "close" not in tokens
    return "keep-alive" in tokens


class _Reader:
    """Buffered reads from a StreamReader with Go's request parsing rules."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.buf = bytearray()

    async def fill(self) -> bool:
        data = await self.stream.read(65536)
        if not data:
            return False
        self.buf += data
        return True

    async def head(self) -> bytes | None:
        """The request head without its blank line; None at a clean end of stream."""
        while True:
            # Go tolerates stray CRLFs between requests.
            while self.buf and self.buf[0] in b"\r\n":
                del self.buf[:1]
            match = _HEAD_END.search(self.buf)
            if match is not None:
                head = bytes(self.buf[: match.start()])
                del self.buf[: match.end()]
                return head
            if len(self.buf) > MAX_HEADER_BYTES:
                raise BadRequest(431)
            if not await self.fill():
                if self.buf:
                    raise ConnectionResetError("request cut off")
                return None

    async def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self.fill():
                raise ConnectionResetError("body cut off")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def line(self) -> bytes:
        while (i := self.buf.find(b"\n")) < 0:
            if len(self.buf) > MAX_HEADER_BYTES or not await self.fill():
                raise BadRequest()
        data = bytes(self.buf[:i]).rstrip(b"\r")
        del self.buf[: i + 1]
        return data

    async def chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_text = (await self.line()).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest() from None
            if size == 0:
                while await self.line():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise BadRequest(413)
            body += await self.exactly(size)
            if await self.line():
                raise BadRequest()


def _parse_target(target: str) -> tuple[str, str]:
    """Go's `url.ParseRequestURI`: the decoded path and the raw query."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        raise BadRequest()
    rest = target
    if not rest.startswith("/"):
        if rest == "*":
            return "*", ""
        match = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?]*", rest)
        if match is None:
            raise BadRequest()
        rest = rest[match.end() :] or "/"
    raw_path, _, query = rest.partition("?")
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw_path):
        raise BadRequest()
    return unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"), query


def parse_head(head: bytes) -> Request:
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    method_b, _, rest = lines[0].partition(b" ")
    target_b, sep, proto = rest.partition(b" ")
    if not sep or not _TOKEN.match(method_b):
        raise BadRequest()
    match = re.fullmatch(rb"HTTP/(\d)\.(\d)", proto)
    if match is None:
        raise BadRequest()
    if match.group(1) != b"1":
        raise BadRequest(505, "unsupported protocol version")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):
            raise BadRequest()
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    target = target_b.decode("latin-1")
    path, query = _parse_target(target)
    request = Request(method_b.decode(), target, path, query, int(match.group(2)), headers)
    hosts = [v for k, v in headers if k.lower() == "host"]
    if request.minor >= 1 and not hosts:
        raise BadRequest(400, "missing required Host header")
    if len(hosts) > 1:
        raise BadRequest(400, "too many Host headers")
    return request


async def _read_body(reader: _Reader, request: Request, writer: asyncio.StreamWriter) -> bytes:
    encodings = request.header_tokens("Transfer-Encoding") if request.minor >= 1 else set()
    lengths = {v.strip() for k, v in request.headers if k.lower() == "content-length"}
    if encodings and encodings != {"chunked"}:
        raise BadRequest(501)
    if not encodings:
        if len(lengths) > 1:
            raise BadRequest()
        length_text = lengths.pop() if lengths else "0"
        if not length_text.isascii() or not length_text.isdigit():
            raise BadRequest()
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise BadRequest(413)
        if length == 0:
            return b""
    if "100-continue" in request.header_tokens("Expect") and request.minor >= 1:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if encodings:
        return await reader.chunked_body()
    return await reader.exactly(length)


async def serve_connection(
    stream: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    """Answer requests on one connection until it closes or asks to."""
    reader = _Reader(stream)
    try:
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT):
                    if not reader.buf and not await reader.fill():
                        return
                async with asyncio.timeout(READ_TIMEOUT):
                    head = await reader.head()
                    if head is None:
                        return
                    request = parse_head(head)
                    request.body = await _read_body(reader, request, writer)
            except BadRequest as exc:
                writer.write(exc.raw())
                return
            response = await handler(request)
            data, keep_alive = encode_response(
                request, response, keep_alive=wants_keep_alive(request)
            )
            writer.write(data)
            await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
