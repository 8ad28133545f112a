"""Consumer pact tests of node-shop: each test declares what a Node.js consumer sends and
needs, serves that on a Pact mock server, starts the REAL consumer (`node gateway/server.js`,
`node orders/server.js`) with its dependency's URL pointing at the mock, and drives it over
plain HTTP. The interactions are merged per test; they replace `../pacts/*.json` only after
a run of the whole suite that passed, so a partial run never drops a contract.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from node_shop_pact import NewPact, StartConsumer
from pact import Pact

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # the verifier's telemetry stays off

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
PACTS_DIR = EXAMPLE_DIR / "pacts"
_LISTENING = re.compile(r"listening on (http://\S+)")

_session_dir = pytest.StashKey[Path]()
_partial = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_partial] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_partial].append(f"{len(items)} test(s) deselected")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any("::" in arg for arg in config.args):
        config.stash[_partial].append("tests selected by node id")


@pytest.fixture(scope="session")
def pact_session_dir(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path:
    path = tmp_path_factory.mktemp("node-shop-pacts")
    request.config.stash[_session_dir] = path
    return path


@pytest.fixture
def new_pact(pact_session_dir: Path) -> Iterator[NewPact]:
    """`new_pact("gateway", "users")`: a V4 pact, merged into the session's files at test end."""
    made: list[Pact] = []

    def make(consumer: str, provider: str) -> Pact:
        pact = Pact(consumer, provider).with_specification("V4")
        made.append(pact)
        return pact

    yield make
    for pact in made:
        pact.write_file(pact_session_dir, overwrite=False)


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    written = config.stash.get(_session_dir, None)
    if written is None:
        return
    reasons = [*config.stash[_partial]]
    if exitstatus != 0:
        reasons.append("the run failed")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reasons:
        message = f"node-shop pacts NOT updated ({'; '.join(reasons)}); this run's are in {written}"
    else:
        PACTS_DIR.mkdir(exist_ok=True)
        for stale in PACTS_DIR.glob("*.json"):
            stale.unlink()
        files = sorted(written.glob("*.json"))
        for path in files:
            shutil.copyfile(path, PACTS_DIR / path.name)
        message = f"node-shop pacts written to {PACTS_DIR}: {', '.join(p.name for p in files)}"
    if reporter is not None:
        reporter.write_line(message)
