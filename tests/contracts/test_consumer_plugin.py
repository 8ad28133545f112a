"""`harness.contracts.consumer`, the consumer-side pytest plugin, in a user's own project:
`new_pact` writes the pacts, and they reach the pacts folder only after the whole consumer
suite passed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONFTEST = """
from pathlib import Path
import pytest

def pytest_configure(config):
    config.pluginmanager.import_plugin("harness.contracts.consumer")

@pytest.fixture(scope="session")
def pact_output_dir():
    return Path(__file__).parent / "pacts"
"""

CONSUMER_TEST = """
import httpx
from pact import match
from harness.contracts.consumer import NewPact, timestamp

def test_the_client_reads_an_item(new_pact: NewPact) -> None:
    pact = new_pact("shopfront", "catalog")
    (
        pact.upon_receiving("an item")
        .with_request("GET", "/items/1")
        .will_respond_with(200)
        .with_body({"id": match.int(1), "added": timestamp()}, content_type="application/json")
    )
    with pact.serve(addr="127.0.0.1") as server:
        assert httpx.get(f"{server.url}/items/1").json()["id"] == 1
"""

FAILING_TEST = """
def test_something_else_fails() -> None:
    assert False
"""


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pact", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_pacts_are_written_after_a_passing_suite_and_kept_after_a_failing_one(
    tmp_path: Path,
) -> None:
    project = tmp_path / "consumers"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_catalog.py").write_text(CONSUMER_TEST)

    passed = run_pytest(project)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    written = project / "pacts" / "shopfront-catalog.json"
    assert "pacts written to" in passed.stdout
    document = json.loads(written.read_text())
    assert [i["description"] for i in document["interactions"]] == ["an item"]

    written.write_text("{}")  # so that a rewrite would show
    (project / "test_other.py").write_text(FAILING_TEST)
    failed = run_pytest(project)
    assert failed.returncode == 1
    assert "pacts NOT updated (the run failed)" in failed.stdout
    assert written.read_text() == "{}"
