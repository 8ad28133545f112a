"""Consumer-side Pact tests under pytest: a `new_pact` fixture, and pact files that change
only after a whole consumer suite passed.

Turn it on in the `conftest.py` of your consumer tests, and say where the pact files go::

    import pytest
    from pathlib import Path

    def pytest_configure(config: pytest.Config) -> None:
        config.pluginmanager.import_plugin("harness.contracts.consumer")

    @pytest.fixture(scope="session")
    def pact_output_dir() -> Path:          # default: <rootdir>/pacts
        return Path(__file__).parent.parent / "pacts"

Then a test builds its interactions, drives the consumer's real client against the mock
server, and the pact is written when the test ends::

    def test_reserves_stock(new_pact: NewPact) -> None:
        pact = new_pact("orders", "inventory")          # a V4 pact
        pact.upon_receiving("a reservation").with_request("POST", "/reservations")...
        with pact.serve(addr="127.0.0.1") as server:
            assert my_client(server.url).reserve("SKU-1", 2).ok

Every test's interactions are first merged into a session directory. They replace the
files in `pact_output_dir` only after a run of the WHOLE consumer suite passed: a partial
run (`-k`, a node id, a file of the suite not collected) or a failure never drops
interactions from the contracts; the terminal summary says which happened.

The plugin sets `PACT_DO_NOT_TRACK=true` (pact's FFI would send anonymous telemetry).
`timestamp()` and `one_of()` are matchers for common field formats.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pact import Pact, match
from pact.match.matcher import AbstractMatcher

__all__ = [
    "ISO_DATETIME",
    "NewPact",
    "new_pact",
    "one_of",
    "pact_output_dir",
    "pact_session_dir",
    "timestamp",
]

NewPact = Callable[[str, str], Pact]
"""The `new_pact` fixture: `new_pact(consumer, provider)`, a V4 pact written at test end."""

# ISO 8601 date-times: `2026-01-31T12:00:00.123456+00:00` or `...Z`.
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

_session_dir = pytest.StashKey[Path]()
_output_dir = pytest.StashKey[Path]()
_partial = pytest.StashKey[list[str]]()
_outcome = pytest.StashKey[str]()


def timestamp(example: str = "2026-01-31T12:00:00.000000+00:00") -> AbstractMatcher[Any]:
    """An ISO 8601 date-time, with or without fractions, `Z` or an offset."""
    return match.regex(example, regex=ISO_DATETIME)


def one_of(example: str, pattern: str) -> AbstractMatcher[Any]:
    """A string matching `pattern` (e.g. `^(held|confirmed)$`), `example` in the pact."""
    return match.regex(example, regex=pattern)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    config.stash[_partial] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_partial].append(f"{len(items)} test(s) deselected")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Note a partial run: tests picked by node id, or a test file beside the collected
    consumer tests (those using `new_pact`) that was not collected."""
    if any("::" in arg for arg in config.args):
        config.stash[_partial].append("tests selected by node id")
    consumers = [item for item in items if "new_pact" in getattr(item, "fixturenames", ())]
    collected = {Path(str(item.path)) for item in items}
    folders = {Path(str(item.path)).parent for item in consumers}
    missing = sorted(
        path.name
        for folder in folders
        for path in folder.glob("test_*.py")
        if path not in collected
    )
    if missing:
        config.stash[_partial].append(f"not collected: {', '.join(missing)}")


@pytest.fixture(scope="session")
def pact_output_dir(pytestconfig: pytest.Config) -> Path:
    """Where the pact files go after a whole passing run (override it in your conftest)."""
    return Path(pytestconfig.rootpath) / "pacts"


@pytest.fixture(scope="session")
def pact_session_dir(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    pact_output_dir: Path,
) -> Path:
    """Where this run's pact files are merged before they may replace `pact_output_dir`."""
    path = tmp_path_factory.mktemp("pacts")
    request.config.stash[_session_dir] = path
    request.config.stash[_output_dir] = pact_output_dir
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
    target = config.stash[_output_dir]
    reasons: list[str] = [*config.stash.get(_partial, [])]
    if exitstatus != 0:
        reasons.append("the run failed")
    if reasons:
        config.stash[_outcome] = (
            f"pacts NOT updated ({'; '.join(reasons)}); this run's pacts are in {written}"
        )
        return
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.json"):
        stale.unlink()
    files = sorted(written.glob("*.json"))
    for path in files:
        shutil.copyfile(path, target / path.name)
    config.stash[_outcome] = f"pacts written to {target}: {', '.join(p.name for p in files)}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    outcome = config.stash.get(_outcome, None)
    if outcome is not None:
        terminalreporter.write_line(outcome)
