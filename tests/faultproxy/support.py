"""Shared helpers of the fault proxy conformance suite.

Everything here works against the embedded server and against a real Toxiproxy
(`TOXIPROXY_URL`): proxies listen on 127.0.0.1:0 and the upstream test servers are threads of
this process on 127.0.0.1, reachable from a real server on the same machine.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

TOXIPROXY_URL = os.environ.get("TOXIPROXY_URL", "").strip() or None

# Checks of choices the embedded server makes where the real one crashes, and of its own API.
embedded_only = pytest.mark.skipif(
    TOXIPROXY_URL is not None, reason="checks the embedded server itself"
)

IO_TIMEOUT = 5.0  # no socket operation in this suite may block longer
SLACK = 5.0  # generous upper bound for "it happened, and not only after a hang"

Handler = Callable[[socket.socket], None]


class TcpServer:
    """An upstream on 127.0.0.1:0 that runs `handler(conn)` for each connection on a thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.accepted = 0
        self.errors: list[BaseException] = []
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self.accepted += 1
                self._conns.append(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass  # the proxy closed or reset the connection: part of many tests
        except BaseException as exc:  # pragma: no cover - reported by close()
            self.errors.append(exc)
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = list(self._conns)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in [self._acceptor, *self._threads]:
            thread.join(IO_TIMEOUT)
        if self.errors:
            raise self.errors[0]


def echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def send_and_close(payload: bytes) -> Handler:
    """A server that sends `payload` as soon as a client connects, then closes."""

    def handler(conn: socket.socket) -> None:
        conn.sendall(payload)

    return handler


def hold_open(conn: socket.socket) -> None:
    """A server that reads and discards until the other side closes."""
    while conn.recv(65536):
        pass


@dataclass
class ProxyInfo:
    name: str
    host: str
    port: int
    json: dict[str, Any]

    @property
    def listen(self) -> str:
        return f"{self.host}:{self.port}"


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


_NAMES = itertools.count()


class Api:
    """A thin client of the Toxiproxy API that deletes the proxies it made at teardown."""

    def __init__(self, http: httpx.Client, test_name: str) -> None:
        self.http = http
        self.url = str(http.base_url).rstrip("/")
        self.prefix = re.sub(r"[^A-Za-z0-9_]+", "_", test_name)[-40:]
        self.created: list[str] = []

    def unique_name(self) -> str:
        return f"{self.prefix}_{next(_NAMES)}"

    def create_proxy(self, upstream: str, **fields: Any) -> ProxyInfo:
        body = {"name": self.unique_name(), "listen": "127.0.0.1:0", "upstream": upstream}
        body.update(fields)
        response = self.http.post("/proxies", json=body)
        assert response.status_code == 201, response.text
        self.created.append(body["name"])
        data = response.json()
        host, port = split_listen(data["listen"]) if data["enabled"] else ("", 0)
        return ProxyInfo(body["name"], host, port, data)

    def add_toxic(
        self, proxy: ProxyInfo, type: str, *, stream: str = "downstream", **fields: Any
    ) -> dict[str, Any]:
        body = {"type": type, "stream": stream, **fields}
        response = self.http.post(f"/proxies/{proxy.name}/toxics", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def remove_toxic(self, proxy: ProxyInfo, name: str) -> None:
        response = self.http.delete(f"/proxies/{proxy.name}/toxics/{name}")
        assert response.status_code == 204, response.text

    def patch_proxy(self, proxy: ProxyInfo, **fields: Any) -> dict[str, Any]:
        response = self.http.patch(f"/proxies/{proxy.name}", json=fields)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def close(self) -> None:
        for name in self.created:
            self.http.delete(f"/proxies/{name}")


def connect(proxy: ProxyInfo) -> socket.socket:
    sock = socket.create_connection((proxy.host, proxy.port), timeout=IO_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def read_until_closed(sock: socket.socket) -> tuple[bytes, str]:
    """Everything until the peer closes; also how it closed: "eof" or "reset"."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def nothing_arrives(sock: socket.socket, within: float) -> bool:
    """True when neither data nor a close arrives within `within` seconds."""
    sock.settimeout(within)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    finally:
        sock.settimeout(IO_TIMEOUT)
    return False


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def wait_until(predicate: Callable[[], bool], *, timeout: float = SLACK) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


@contextlib.contextmanager
def tcp_server(handler: Handler) -> Iterator[TcpServer]:
    server = TcpServer(handler)
    try:
        yield server
    finally:
        server.close()
