"""After a fault pass heals its edge, the run waits for the caller's breaker to stop reading
open (as its breaker convention declares), not a fixed time: `harness.fuzz.runner._settle`,
against a real HTTP server whose metrics say what the breaker does."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.fuzz import runner
from harness.topology.model import parse_topology

TOPOLOGY = """
[services.caller]
command = ["true"]
[services.callee]
command = ["true"]
[[edges]]
from = "caller"
to = "callee"
{conventions}
"""
BREAKER = """
[conventions.breaker]
metric = "app_breaker_state"
labels = { dependency = "{target}" }
states = { closed = 0, open = 1, half_open = 2 }
"""


class Metrics:
    """A `/metrics` whose breaker gauge reads open for the first `open_reads` scrapes."""

    def __init__(self, open_reads: int) -> None:
        self.open_reads = open_reads
        self.scrapes = 0

    def body(self) -> bytes:
        self.scrapes += 1
        value = 1 if self.scrapes <= self.open_reads else 2
        return f'app_breaker_state{{dependency="callee"}} {value}\n'.encode()


@pytest.fixture
def metrics() -> Iterator[tuple[Metrics, str]]:
    state = Metrics(open_reads=3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.body()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class System:
    def __init__(self, conventions: str, url: str) -> None:
        data = tomllib.loads(TOPOLOGY.format(conventions=conventions))
        self.topology = parse_topology(data)
        self._url = url

    def url(self, _service: str) -> str:
        return self._url


def test_the_wait_ends_once_the_callers_breaker_no_longer_reads_open(
    metrics: tuple[Metrics, str],
) -> None:
    state, url = metrics
    runner._settle(System(BREAKER, url), "caller->callee", 60.0)  # type: ignore[arg-type]
    # read open three times, then half-open once: done, long before the 60 s it may take
    assert state.scrapes == 4


def test_without_a_breaker_convention_the_whole_settle_time_is_waited(
    metrics: tuple[Metrics, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = metrics
    slept: list[float] = []
    monkeypatch.setattr(runner.time, "sleep", slept.append)
    runner._settle(System("", url), "caller->callee", 1.5)  # type: ignore[arg-type]
    assert state.scrapes == 0
    assert slept
    assert sum(slept) == pytest.approx(1.5, abs=0.05)
