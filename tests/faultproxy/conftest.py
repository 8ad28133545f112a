"""Fixtures: the server under test (embedded by default, real at TOXIPROXY_URL), an API
client that cleans up after each test, and upstream servers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness import http_clients
from harness.faultproxy import start_in_thread

from .http_upstream import HttpUpstream
from .support import TOXIPROXY_URL, Api, TcpServer, echo

SUITE_SEED = 20261121


@pytest.fixture(scope="session")
def toxiproxy_url() -> Iterator[str]:
    """The API under test; never starts the embedded server when TOXIPROXY_URL is set."""
    if TOXIPROXY_URL is not None:
        yield TOXIPROXY_URL.rstrip("/")
        return
    with start_in_thread(host="127.0.0.1", port=0, seed=SUITE_SEED) as handle:
        yield handle.url


@pytest.fixture(scope="session")
def http_client(toxiproxy_url: str) -> Iterator[httpx.Client]:
    # One client for the session: building one (its TLS context) costs about 0.1 s.
    with http_clients.client(base_url=toxiproxy_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def api(http_client: httpx.Client, request: pytest.FixtureRequest) -> Iterator[Api]:
    client = Api(http_client, request.node.name)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def echo_server() -> Iterator[TcpServer]:
    server = TcpServer(echo)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def http_server() -> Iterator[HttpUpstream]:
    server = HttpUpstream()
    try:
        yield server
    finally:
        server.close()
