"""The load runner end to end: Locust in its own processes against a fake gateway.

Runs are a few seconds long; they check what the runner decides and writes, never how
fast anything was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import pytest
from load_fakes import FakeSystem

from harness.load import load_profile, run_load
from harness.load.locust_process import locust_plugin_path
from harness.load.summary import LoadSummary
from harness.schemas import validate_document

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMOKE = """
name: fake-smoke
locustfile: {locustfile}
users: 4
spawn_rate: 4
duration: 3s
slos:
  total: {max_failure_ratio: 0.01, min_requests: 10}
  "GET /api/products": {p95_ms: 2000}
"""

IMPOSSIBLE = """
name: fake-impossible
locustfile: {locustfile}
users: 2
spawn_rate: 2
duration: 3s
slos:
  "GET /slow": {p95_ms: 10}
  total: {max_failure_ratio: 0.01}
"""

CHAOS = """
name: fake-chaos
locustfile: {locustfile}
users: 4
spawn_rate: 4
duration: 6s
scrape_interval: 0.25s
slos:
  "GET /api/products": {max_failure_ratio: 0.01}
faults:
  - label: payments-slow
    edge: gateway->payments
    toxic: latency
    attributes: {latency: 50}
    start: 1s
    duration: 2s
assertions:
  - {type: breaker_opened, edge: gateway->payments, during: payments-slow}
  - {type: breaker_closed, edge: gateway->payments, after: payments-slow, within: 2s}
  - {type: breaker_stayed_closed, edge: gateway->users}
"""


def run(profile_path: Path, system: FakeSystem, out: Path, **options: Any) -> LoadSummary:
    return run_load(load_profile(profile_path), system=system, out_dir=out, **options)


def test_profile_within_its_slos_passes_and_writes_report_and_summary(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    summary = run(write_profile(SMOKE), fake_system, tmp_path / "out")

    assert summary.passed, [c.detail for c in summary.failed_checks]
    assert summary.exit_code == 0
    keys = {row.key for row in summary.requests}
    assert {"GET /api/products", "POST /api/orders", "GET /api/orders/{id}"} <= keys
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["passed"] is True
    assert [c["name"] for c in saved["checks"]][:3] == [
        "load was generated",
        "failure ratio of all requests",
        "requests of all requests",
    ]
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.index("PASS") < html.index("<svg")  # the verdict comes before the plots
    for external in ('src="http', 'href="http', "url(http", "<script"):
        assert external not in html  # self-contained: nothing is fetched when opened offline


def test_summary_is_versioned_with_iso_times_and_valid_against_the_shipped_schema(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    summary = run(write_profile(SMOKE), fake_system, tmp_path / "out")

    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["summary_version"] == 2
    assert saved["started_at"].endswith("+00:00")
    assert validate_document(saved, "summary") == []
    assert LoadSummary.read(json.dumps(saved)).started_at == pytest.approx(summary.started_at)
    broken = {**saved, "started_at": summary.started_at}  # an epoch float: version 1's shape
    assert validate_document(broken, "summary") == [
        f"started_at: {summary.started_at} is not of type 'string'"
    ]


def test_locusts_own_html_report_and_csv_are_written_beside_ours_and_linked(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = run(write_profile(SMOKE), fake_system, out)

    assert summary.locust_report_path == str(out / "locust-report.html")
    locust_html = (out / "locust-report.html").read_text()
    assert "Locust" in locust_html
    assert "/api/products" in locust_html
    assert summary.locust_csv_paths == [
        str(out / f"locust_{kind}.csv")
        for kind in ("stats", "stats_history", "failures", "exceptions")
    ]
    stats = (out / "locust_stats.csv").read_text().splitlines()
    assert stats[0].startswith("Type,Name,Request Count")
    assert any("/api/products" in line for line in stats[1:])
    ours = (out / "report.html").read_text()
    assert '<a href="locust-report.html">' in ours
    assert '<a href="locust_stats.csv">' in ours


def test_slo_the_system_cannot_meet_fails_the_run_and_says_by_how_much(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    summary = run(write_profile(IMPOSSIBLE), fake_system, tmp_path / "out")

    assert not summary.passed
    assert summary.exit_code == 1
    [failed] = summary.failed_checks
    assert failed.name == "p95 of GET /slow"
    assert failed.observed is not None
    assert failed.observed >= 30
    assert failed.miss == pytest.approx(failed.observed - 10)
    assert "missed by" in failed.detail
    html = (tmp_path / "out" / "report.html").read_text()
    assert "FAIL" in html
    assert "p95 of GET /slow" in html
    assert escape(failed.detail) in html


def test_fault_schedule_is_applied_during_load_and_breaker_assertions_hold(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    summary = run(write_profile(CHAOS), fake_system, tmp_path / "out")

    assert summary.passed, [c.detail for c in summary.failed_checks]
    assert fake_system.faults.calls == [
        ("add_toxic", "gateway->payments"),
        ("remove_toxic", "gateway->payments"),
    ]
    [window] = summary.faults
    assert window.start_s is not None
    assert window.end_s is not None
    assert window.end_s - window.start_s == pytest.approx(2.0, abs=1.0)
    assertions = [c for c in summary.checks if c.kind == "breaker"]
    assert [c.passed for c in assertions] == [True, True, True]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Breaker state per edge" in html


STOCKED = """
name: fake-stocked
locustfile: {locustfile}
users: 2
spawn_rate: 2
duration: 2s
invariants:
  - checks.py:got_the_recorded_stock
  - checks.py:takes_only_the_system
"""

STOCK_RECORDING_LOCUSTFILE = """
import json, os, sys
sys.path.insert(0, {fixtures!r})
from fake_locustfile import Shopper  # noqa: F401  (the users)
from locust import events

def _record(environment, **_):
    with open(os.environ["HARNESS_LOAD_INITIAL_STOCK"], "w") as out:
        json.dump({{"SKU-1": 5}}, out)

events.test_start.add_listener(_record)
"""

STOCK_CHECKS = """
def got_the_recorded_stock(system, *, initial_stock=None):
    assert initial_stock == {"SKU-1": 5}, initial_stock

def takes_only_the_system(system):
    return True
"""


def test_stock_the_locustfile_records_reaches_the_invariants_that_ask_for_it(
    fake_system: FakeSystem, tmp_path: Path
) -> None:
    fixtures = str(Path(__file__).parent / "fixtures")
    (tmp_path / "stocked_locustfile.py").write_text(
        STOCK_RECORDING_LOCUSTFILE.format(fixtures=fixtures)
    )
    (tmp_path / "checks.py").write_text(STOCK_CHECKS)
    profile = tmp_path / "stocked.yaml"
    profile.write_text(STOCKED.replace("{locustfile}", "stocked_locustfile.py"))

    summary = run(profile, fake_system, tmp_path / "out")

    invariants = [c for c in summary.checks if c.kind == "invariant"]
    assert [(c.name, c.passed) for c in invariants] == [
        ("invariants got_the_recorded_stock", True),
        ("invariants takes_only_the_system", True),
    ], [c.detail for c in invariants]


def test_master_with_local_workers_aggregates_their_requests(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    summary = run(write_profile(SMOKE), fake_system, tmp_path / "out", workers=2)

    assert summary.passed, [c.detail for c in summary.failed_checks]
    assert summary.workers == 2
    assert summary.total is not None
    assert summary.total.requests >= 10
    assert len(summary.log_paths) == 3


def test_hand_run_locust_with_the_plugin_gates_on_the_profile_slos(
    fake_system: FakeSystem, write_profile: Any, tmp_path: Path
) -> None:
    """`locust -f locustfile,locust_plugin.py` with HARNESS_LOAD_PROFILE exits 1 on a missed SLO."""
    profile = write_profile(IMPOSSIBLE)
    locustfile = load_profile(profile).locustfile
    env = {
        **os.environ,
        "HARNESS_LOAD_PROFILE": str(profile),
        "HARNESS_LOAD_STAGES": '[{"duration": 2, "users": 2, "spawn_rate": 2}]',
        "HARNESS_LOAD_RESULT": str(tmp_path / "result.json"),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            f"{locustfile},{locust_plugin_path()}",
            "--headless",
            "--host",
            fake_system.url("gateway"),
            "--only-summary",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "p95 of GET /slow was" in completed.stderr
    assert (tmp_path / "result.json").exists()


FAILING_LOCUSTFILE = """
from locust import FastHttpUser, HttpUser, constant, task


class Fast(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def each_failure(self) -> None:
        # one task sending all three, so that each is sent however few turns a busy machine
        # gives the user (as three random tasks, one was sometimes never picked in 2 s)
        self.client.get("/missing", name="GET /missing")
        with self.client.get("/api/products", name="GET /api/products", catch_response=True) as r:
            r.failure(r.status_code)  # what once showed as CatchResponseError('200')
        self.client.get("http://127.0.0.1:9/x", name="GET refused")


class Plain(HttpUser):
    wait_time = constant(0.1)

    @task
    def missing(self) -> None:
        self.client.get("/missing", name="GET /missing (requests)")
"""


def test_failed_requests_are_labelled_with_status_and_reason_not_an_exception_repr(
    fake_system: FakeSystem, tmp_path: Path
) -> None:
    (tmp_path / "failing.py").write_text(FAILING_LOCUSTFILE)
    profile = tmp_path / "failing.yaml"
    profile.write_text(
        "name: failing\nlocustfile: failing.py\nusers: 2\nspawn_rate: 2\nduration: 2s\n"
    )
    summary = run(profile, fake_system, tmp_path / "out")

    errors = {error.name: error.error for error in summary.errors}
    assert errors == {
        "GET /missing": "HTTP 404 Not Found",
        "GET /missing (requests)": "HTTP 404 Not Found",
        "GET /api/products": "HTTP 200 OK, marked failed by the locustfile",
        "GET refused": "ConnectionRefusedError: Connection refused",
    }
    html = (tmp_path / "out" / "report.html").read_text()
    assert "HTTP 404 Not Found" in html
    assert "CatchResponseError" not in html
    assert "LocustBadStatusCode" not in html
