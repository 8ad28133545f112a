"""The containers backend against a stand-in Docker API on loopback (no engine needed):

- it asks the engine its API version once per process tree: Podman answers every
  `GET /version` by looking up its runtime's packages with dpkg-query (about 0.2
  CPU-seconds), and docker-py asks on every new client unless it is given the version;
- cleaning stale runs survives a container another run removes meanwhile: Podman answers
  the inspection of a container that has just gone 500 "no such container", not 404."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from unittest.mock import ANY

import pytest

from harness.runtime.backends.containers.cleanup import clean_stale_containers, labelled_runs
from harness.runtime.backends.containers.engine import (
    API_VERSION_ENV,
    CONTAINERS_DIR_ENV,
    client_settings,
    docker_client,
)
from harness.runtime.backends.containers.labels import LABEL_RUN_DIR, LABEL_RUN_ID

GONE = "14befe8664bf4aa7aad9b46ccc4bffa548926a27521f4763eca27e2269d6b4d5"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """A Docker API stand-in (version, ping, one container of an unowned run that is gone by
    the time it is inspected or removed); yields the requests per endpoint."""
    requests: Counter[str] = Counter()

    class Engine(BaseHTTPRequestHandler):
        def _answer(self, status: int, payload: object) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            endpoint = path.rsplit("/", 1)[-1]
            requests[endpoint] += 1
            if endpoint == "version":
                self._answer(200, {"ApiVersion": "1.41", "Version": "4.3.1"})
            elif path.endswith("/containers/json"):  # one container, of a run nobody owns
                labels = {LABEL_RUN_ID: "gone-run", LABEL_RUN_DIR: str(tmp_path / "nowhere")}
                self._answer(200, [{"Id": GONE, "Names": ["/gone"], "State": "exited",
                                    "Labels": labels}])  # fmt: skip
            elif path.endswith("/networks"):
                self._answer(200, [])
            elif path.endswith(f"/containers/{GONE}/json"):  # removed by another run since
                requests["inspect"] += 1
                self._answer(500, {"message": f"container {GONE} does not exist in database: "
                                              "no such container"})  # fmt: skip
            else:
                self._answer(200, b"OK")

        def do_DELETE(self) -> None:
            requests["DELETE " + self.path.split("?")[0].rsplit("/", 1)[-1]] += 1
            self._answer(500, {"message": "no such container"})

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


def test_cleaning_stale_runs_survives_a_container_removed_meanwhile(engine: Counter[str]) -> None:
    client = docker_client(timeout=5)
    try:
        assert labelled_runs(client) == {"gone-run": ANY}
        assert clean_stale_containers(client=client) == {"gone-run": []}  # gone: nothing left
    finally:
        client.close()
    assert engine["inspect"] == 0, "no container inspected one by one"
    assert engine[f"DELETE {GONE}"] == 1
