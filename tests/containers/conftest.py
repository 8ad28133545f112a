"""The containers backend's tests: every module here is marked `containers`, and every test
that needs an engine is skipped, with the reason, when no Docker-compatible engine answers
(on a machine without Docker: scripts/containers/setup.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.runtime.backends.containers.engine import engine_unavailable_reason


@pytest.fixture(scope="session")
def engine() -> None:
    """Skips the test when no container engine answers."""
    reason = engine_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HARNESS_HOME: runs (and stale-run cleanup) never touch anyone else's."""
    path = tmp_path / "home"
    monkeypatch.setenv("HARNESS_HOME", str(path))
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    return path
