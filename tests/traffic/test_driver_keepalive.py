"""The traffic's HTTP client drops a connection that sat idle before a server's keep-alive
timeout can close it under the next request: against a real socket server that, like a
server whose keep-alive timer fires as a request arrives, closes a connection idle for 1.5 s
without answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from harness.traffic.driver import TrafficRun
from harness.traffic.spec import TrafficPacing

IDLE_CLOSE = 1.5  # the server closes a connection idle this long when a request comes
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def _serve(conn: socket.socket) -> None:
    last = time.monotonic()
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            if time.monotonic() - last >= IDLE_CLOSE:
                return  # the keep-alive timer won: closed, no answer
            conn.sendall(RESPONSE)
            last = time.monotonic()


@pytest.fixture
def server() -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        listener.close()


class TwoRequestsApart:
    """A traffic source whose setup sends a request, waits past the idle close, sends again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: list[int] = []

    def setup(self, system: Any, seed: int, client: httpx.Client) -> Mapping[str, Any]:
        self.statuses.append(client.get(self.url).status_code)
        time.sleep(IDLE_CLOSE + 0.2)
        self.statuses.append(client.get(self.url).status_code)  # a reused one: no answer
        return {}


def test_a_connection_idle_past_a_servers_keep_alive_is_not_reused(server: str) -> None:
    source = TwoRequestsApart(server)
    run = TrafficRun(source, TrafficPacing(rate=1, concurrency=1))  # type: ignore[arg-type]
    try:
        run.setup(None, seed=1)
    finally:
        run.stop()
    assert source.statuses == [200, 200]
