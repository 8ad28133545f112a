"""`python -m shop.<service>` serves the app on HOST/PORT, logs JSON, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness import http_clients
from harness.runtime.ports import pick_free_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEADLINE_SECONDS = 30.0


def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the service exited before it became healthy"
        try:
            return http_clients.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {DEADLINE_SECONDS} s")


@pytest.mark.parametrize("service", ["users", "inventory", "notifications"])
def test_service_runs_as_a_module_and_stops_cleanly(service: str, tmp_path: Path) -> None:
    (port,) = pick_free_ports(1)  # reserved: bind(0)'s range is shared with outgoing connections
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "LOG_LEVEL": "INFO",
    }
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", f"shop.{service}"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            health = wait_until_healthy(f"http://127.0.0.1:{port}/health", process)
            assert health.json() == {"status": "ok", "service": service}
            ready = http_clients.get(
                f"http://127.0.0.1:{port}/ready", headers={"X-Request-ID": "run-1"}, timeout=5
            )
            assert ready.status_code == 200
            assert ready.headers["X-Request-ID"] == "run-1"
            process.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert process.wait(timeout=DEADLINE_SECONDS) in (0, -signal.SIGTERM)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=DEADLINE_SECONDS)
    lines = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.strip()]
    assert lines, "the service wrote no log line"
    assert all(line["service"] == service for line in lines)
    messages = [line["message"] for line in lines]
    assert "service started" in messages
    assert "service stopping" in messages  # the lifespan's shutdown ran
