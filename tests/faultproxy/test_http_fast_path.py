"""HTTP parsing only while wanted: connections leave it (back to the fast path) once no HTTP
toxic is left, and never enter it without one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import http_clients
from harness.faultproxy import ServerHandle, start_in_thread
from harness.faultproxy.proxy import Connection

from .http_upstream import HttpUpstream
from .support import wait_until


@pytest.fixture
def own_server() -> Iterator[ServerHandle]:
    with start_in_thread(port=0, seed=3) as handle:
        yield handle


def only_connection(handle: ServerHandle, name: str) -> Connection:
    (conn,) = handle.server.proxies.proxies[name]._connections
    return conn


def test_connection_parses_while_an_http_toxic_is_installed_and_then_takes_the_fast_path(
    own_server: ServerHandle, http_server: HttpUpstream
) -> None:
    with http_clients.client(base_url=own_server.url) as api:
        proxy = api.post(
            "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": http_server.address}
        ).json()
        with http_clients.client(base_url=f"http://{proxy['listen']}") as client:
            client.get("/plain")
            conn = only_connection(own_server, "p")
            assert conn.flow is None
            assert conn.client.fast_dest is not None

            api.post("/proxies/p/toxics", json={"type": "http_delay", "name": "d"})
            assert conn.flow is not None  # attached at once to the open connection
            client.get("/parsed")
            assert conn.client.fast_dest is None

            api.delete("/proxies/p/toxics/d")
            client.get("/leaves")  # the first request after removal finds the flow idle
            wait_until(lambda: conn.flow is None)
            assert conn.client.fast_dest is not None
            assert conn.upstream.fast_dest is not None
            assert client.get("/fast").status_code == 200
    assert http_server.paths() == ["/plain", "/parsed", "/leaves", "/fast"]
