"""Fixtures for load tests: a fake gateway process and a RunningSystem-shaped wrapper.

The fake's `gateway->payments` "edge" is a control endpoint: a latency toxic on it makes
POST /api/orders slow and opens the breaker gauge, removing it closes the breaker again.
So the runner's fault schedule, timeline and breaker assertions run end to end without
the real services.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from load_fakes import FakeSystem

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_system() -> Iterator[FakeSystem]:
    process = subprocess.Popen(
        [sys.executable, str(FIXTURES / "fake_gateway.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield FakeSystem(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def write_profile(tmp_path: Path) -> Any:
    """Write a profile YAML (the fake locustfile is filled in) and return its path."""

    def write(text: str, name: str = "profile.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text.replace("{locustfile}", str(FIXTURES / "fake_locustfile.py")))
        return path

    return write
