"""Consumer pact tests of node-shop: each test declares what a Node.js consumer sends and
needs, serves that on a Pact mock server, starts the REAL consumer (`node gateway/server.js`,
`node orders/server.js`) with its dependency's URL pointing at the mock, and drives it over
plain HTTP.

The harness's consumer plugin (`harness.contracts.consumer`) gives the `new_pact` fixture:
interactions are merged per test and replace `../pacts/*.json` only after a run of the whole
suite that passed, so a partial run never drops a contract.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # importing it here would import the plugin before pytest registers it
    from node_shop_pact import StartConsumer

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"listening on (http://\S+)")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("harness.contracts.consumer")


@pytest.fixture(scope="session")
def pact_output_dir() -> Path:
    """node-shop's pacts live in examples/node-shop/pacts/."""
    return EXAMPLE_DIR / "pacts"


@pytest.fixture
def start_consumer() -> Iterator[StartConsumer]:
    """`start_consumer("gateway", USERS_URL=mock.url)`: the Node.js service on a free port,
    its base URL returned once it listens; stopped when the test ends."""
    if not (EXAMPLE_DIR / "node_modules").is_dir():
        pytest.fail(f"run `npm ci` in {EXAMPLE_DIR} first (node_modules is missing)")
    started: list[subprocess.Popen[str]] = []

    def start(service: str, **urls: str) -> str:
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", **urls}
        process = subprocess.Popen(
            ["node", f"{service}/server.js"],
            cwd=EXAMPLE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + 15
        assert process.stdout is not None
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break  # it exited
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                return match.group(1)
        process.kill()
        raise RuntimeError(f"node {service}/server.js did not start: {''.join(seen)[-2000:]}")

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
