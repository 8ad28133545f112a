"""payments served by gunicorn as a real process: idle connections must not starve it.

gunicorn 27's gthread worker hands a new connection to a thread at once, and the thread
waits up to 5 s for the first bytes: eight connections that send nothing (a proxy that
opened its upstream connection under a latency toxic, a client that connected and stalled)
held all eight threads and payments answered nobody for 5 s. Both ways the shop is served
(`python -m shop.payments`, and gunicorn as the harness starts it from `system.toml`) must
keep answering with more idle connections open than it has threads.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from shop_process_driver import wait_until

from harness import http_clients
from harness.runtime.ports import pick_free_ports

ROOT = Path(__file__).parents[3]
TOPOLOGY = ROOT / "target-system" / "system.toml"
THREADS = 8
IDLE_CONNECTIONS = 2 * THREADS
# An answer on loopback takes milliseconds; gthread's stall was 5 s.
PROMPT_SECONDS = 2.0

# How long the shop's clients keep an idle connection (httpx's default keepalive_expiry).
CLIENT_KEEPALIVE_SECONDS = 5.0

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _payments_env_from_topology() -> dict[str, str]:
    """The env `system.toml` gives payments (what the harness starts it with)."""
    topology = tomllib.loads(TOPOLOGY.read_text(encoding="utf-8"))
    env: dict[str, str] = topology["services"]["payments"].get("env", {})
    return env


def _by_main(port: int) -> list[str]:
    return [sys.executable, "-m", "shop.payments"]


def _by_topology(port: int) -> list[str]:
    # As harness/runtime/commands.py starts a `kind = "wsgi"` service.
    return [
        sys.executable, "-m", "gunicorn", "shop.payments.app:app",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(THREADS),
        "--no-control-socket",
    ]  # fmt: skip


@pytest.fixture(
    scope="module",
    params=[_by_main, _by_topology],
    ids=["python-m-shop.payments", "system.toml"],
)
def payments_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """payments started one way, for the module's tests (each leaves no connection open)."""
    tmp_path = tmp_path_factory.mktemp("payments")
    (port,) = pick_free_ports(1)  # reserved: bind(0)'s range is shared with outgoing connections
    env = {
        **os.environ,
        **_payments_env_from_topology(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path}/payments.db",
    }
    log = (tmp_path / "payments.log").open("wb")
    process = subprocess.Popen(
        request.param(port), env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), timeout=30, what="payments answers /health")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        return http_clients.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def test_payments_answers_promptly_with_more_idle_connections_than_threads(
    payments_url: str,
) -> None:
    port = int(payments_url.rsplit(":", 1)[1])
    with ExitStack() as stack:
        for _ in range(IDLE_CONNECTIONS):
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.2)  # let the worker accept them all before asking

        started = time.monotonic()
        with http_clients.client(base_url=payments_url, timeout=10.0) as client:
            health = client.get("/health")
            charge = client.post(
                "/payments",
                json={"order_id": 1, "amount_cents": 100, "currency": "EUR", "card_token": "t"},
                headers={"Idempotency-Key": "idle-connections"},
            )
        elapsed = time.monotonic() - started

    assert (health.status_code, charge.status_code) == (200, 201), charge.text
    assert elapsed < PROMPT_SECONDS, (
        f"payments took {elapsed:.1f} s to answer with {IDLE_CONNECTIONS} idle connections open"
    )


def test_a_connection_that_sends_its_request_late_is_still_served(payments_url: str) -> None:
    """Parking a silent connection must not drop it: its request, once sent, is answered."""
    port = int(payments_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as late:
        time.sleep(1.0)
        late.sendall(b"GET /health HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := late.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_payments_keeps_an_idle_connection_longer_than_its_callers_do(payments_url: str) -> None:
    """The caller, not the server, must close an idle kept-alive connection: a server that
    closes first (gunicorn's default is 2 s) races the caller's next request on it, which
    then fails on the wire (a reset, a retry, a breaker failure) for no fault at all."""
    port = int(payments_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/health")
        assert connection.getresponse().read()
        time.sleep(CLIENT_KEEPALIVE_SECONDS * 0.6)  # past gunicorn's 2 s, within the client's
        connection.request("GET", "/health")  # on the same connection: no reconnect
        again = connection.getresponse()
        assert again.status == 200
    finally:
        connection.close()
