"""The containers backend asks the engine its API version once per process tree: Podman
answers every `GET /version` by looking up its runtime's packages with dpkg-query (about
0.2 CPU-seconds), and docker-py asks on every new client unless it is given the version.

A stand-in engine on loopback counts the requests; no container engine is needed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from harness.runtime.backends.containers.engine import (
    API_VERSION_ENV,
    CONTAINERS_DIR_ENV,
    client_settings,
    docker_client,
)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """A Docker API stand-in answering /version and /_ping; yields the requests per endpoint."""
    requests: Counter[str] = Counter()

    class Engine(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            endpoint = self.path.split("?")[0].rsplit("/", 1)[-1]
            requests[endpoint] += 1
            if endpoint == "version":
                body = json.dumps({"ApiVersion": "1.41", "Version": "4.3.1"}).encode()
            else:
                body = b"OK"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Engine)
    Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv(CONTAINERS_DIR_ENV, str(tmp_path))  # no engine.env of the project's
    monkeypatch.delenv(API_VERSION_ENV, raising=False)
    try:
        yield requests
    finally:
        server.shutdown()
        server.server_close()


def test_the_first_client_learns_the_version_and_later_ones_are_given_it(
    engine: Counter[str],
) -> None:
    assert client_settings() == {}
    for _ in range(3):
        client = docker_client(timeout=5)
        client.ping()
        client.close()
    assert engine["version"] == 1
    assert engine["_ping"] == 3
    assert client_settings() == {"version": "1.41"}


def test_a_child_process_inherits_the_version(engine: Counter[str]) -> None:
    docker_client(timeout=5).close()
    child = "from harness.runtime.backends.containers.engine import docker_client\n"
    child += "docker_client(timeout=5).ping()\n"
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    assert engine["version"] == 1
    assert engine["_ping"] == 1
