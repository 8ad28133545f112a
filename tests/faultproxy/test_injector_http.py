"""The harness side: `FaultInjector` puts HTTP toxics on edges and reads request counts, and
says clearly when the server is a Toxiproxy without them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from harness import http_clients
from harness.faults import FaultInjector, FaultProxyUnsupported, ToxiproxyClient

from .http_upstream import HttpUpstream
from .support import Api, embedded_only


@pytest.fixture
def edge(api: Api, http_server: HttpUpstream, toxiproxy_url: str) -> tuple[FaultInjector, str]:
    proxy = api.create_proxy(http_server.address)
    injector = FaultInjector(ToxiproxyClient(toxiproxy_url), {"orders->payments": proxy.name})
    return injector, f"http://{proxy.listen}"


@embedded_only
def test_http_toxic_and_request_counts_by_edge(
    edge: tuple[FaultInjector, str], http_server: HttpUpstream
) -> None:
    faults, url = edge
    faults.count_requests("orders -> payments")
    with (
        faults.toxic("orders->payments", "http_error", attributes={"first": 1, "status": 500}),
        http_clients.client(base_url=url) as client,
    ):
        codes = [
            client.post("/payments", headers={"Idempotency-Key": "k1"}).status_code
            for _ in range(3)
        ]
    assert codes == [500, 200, 200]
    counts = faults.request_counts("orders->payments", header="Idempotency-Key")
    assert (counts.header, counts.total) == ("Idempotency-Key", 2)
    assert counts.by_value() == {"k1": 2}
    assert [(c.method, c.path, c.value, c.count) for c in counts.counts] == [
        ("POST", "/payments", "k1", 2)
    ]
    faults.reset_request_counts("orders->payments")
    assert faults.request_counts("orders->payments").total == 0
    faults.count_requests("orders->payments", enabled=False)


class _RealToxiproxyAnswers(BaseHTTPRequestHandler):
    """What a real Toxiproxy 2.8 answers to the extensions (see toxiproxy-api.md)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/toxics"):
            body = json.dumps({"error": "invalid toxic type", "status": 400}).encode() + b"\n"
            self._answer(400, body, "text/plain; charset=utf-8")
        else:
            self._answer(404, b"404 page not found\n", "text/plain; charset=utf-8")

    do_GET = do_DELETE = do_POST


@pytest.fixture
def real_toxiproxy() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _RealToxiproxyAnswers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_real_toxiproxy_is_named_as_lacking_http_toxics(real_toxiproxy: str) -> None:
    faults = FaultInjector(ToxiproxyClient(real_toxiproxy), {"a->b": "a_b"})
    with pytest.raises(FaultProxyUnsupported, match="need the embedded fault proxy") as info:
        faults.add_toxic("a->b", "http_error", attributes={"status": 503})
    assert "add http_error toxic 'http_error_downstream' to proxy 'a_b'" in str(info.value)
    assert real_toxiproxy in str(info.value)
    for call in (
        lambda: faults.count_requests("a->b"),
        lambda: faults.request_counts("a->b", header="X-Request-ID"),
        lambda: faults.reset_request_counts("a->b"),
    ):
        with pytest.raises(FaultProxyUnsupported, match="TOXIPROXY_URL"):
            call()
