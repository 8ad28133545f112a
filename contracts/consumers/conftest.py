"""Consumer tests: each test builds its own `Pact`, serves it, drives the consumer's real
client code against the mock server, and writes its interactions.

Pact files are first written (merged) into a session directory. They replace the checked-in
files in `contracts/pacts/` only after a run of the WHOLE consumer suite that passed, so a
partial run (`-k`, a node id, a failure) can never drop interactions from the contracts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from consumer_support import NewPact
from pact import Pact

CONSUMERS_DIR = Path(__file__).parent
PACTS_DIR = CONSUMERS_DIR.parent / "pacts"

_session_dir = pytest.StashKey[Path]()
_partial = pytest.StashKey[list[str]]()
_outcome = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_partial] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_partial].append(f"{len(items)} test(s) deselected")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if any("::" in arg for arg in config.args):
        config.stash[_partial].append("tests selected by node id")
    collected = {Path(str(item.path)) for item in items}
    missing = sorted(p.name for p in CONSUMERS_DIR.glob("test_*.py") if p not in collected)
    if missing:
        config.stash[_partial].append(f"not collected: {', '.join(missing)}")


@pytest.fixture(scope="session")
def pact_session_dir(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path:
    """Where this run's pact files are merged before they may replace contracts/pacts/."""
    path = tmp_path_factory.mktemp("pacts")
    request.config.stash[_session_dir] = path
    return path


@pytest.fixture
def new_pact(pact_session_dir: Path) -> Iterator[NewPact]:
    """Factory: `new_pact("orders", "inventory")`, a V4 pact written when the test ends."""
    made: list[Pact] = []

    def make(consumer: str, provider: str) -> Pact:
        pact = Pact(consumer, provider).with_specification("V4")
        made.append(pact)
        return pact

    yield make
    for pact in made:
        pact.write_file(pact_session_dir, overwrite=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    written = config.stash.get(_session_dir, None)
    if written is None:
        return
    reasons: list[str] = [*config.stash[_partial]]
    if exitstatus != 0:
        reasons.append("the run failed")
    if reasons:
        config.stash[_outcome] = (
            f"pacts NOT updated ({'; '.join(reasons)}); this run's pacts are in {written}"
        )
        return
    PACTS_DIR.mkdir(exist_ok=True)
    for stale in PACTS_DIR.glob("*.json"):
        stale.unlink()
    files = sorted(written.glob("*.json"))
    for path in files:
        shutil.copyfile(path, PACTS_DIR / path.name)
    config.stash[_outcome] = f"pacts written to {PACTS_DIR}: {', '.join(p.name for p in files)}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    outcome = config.stash.get(_outcome, None)
    if outcome is not None:
        terminalreporter.write_line(outcome)
