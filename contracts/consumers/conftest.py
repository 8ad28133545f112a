"""Consumer tests: each test builds its own `Pact` (the `new_pact` fixture of the harness's
consumer plugin), serves it, drives the consumer's real client code against the mock server,
and writes its interactions.

The plugin (`harness.contracts.consumer`) merges them into a session directory; they replace
the checked-in files in `contracts/pacts/` only after a run of the WHOLE consumer suite that
passed, so a partial run (`-k`, a node id, a failure) can never drop interactions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACTS_DIR = Path(__file__).parent.parent / "pacts"


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("harness.contracts.consumer")


@pytest.fixture(scope="session")
def pact_output_dir() -> Path:
    """The shop's pacts live in contracts/pacts/."""
    return PACTS_DIR
