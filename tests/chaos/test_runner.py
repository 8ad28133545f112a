"""The runner end to end against an in-process fake shop (no processes, no sockets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_shop import (
    SERVICES,
    FakeShop,
    fake_system,
    fake_topology,
    slow_payments_assertions,
    slow_payments_method,
)

from harness.chaos import ExperimentResult, parse_experiment, run_experiment
from harness.chaos.report import render_html, render_text


def _run(
    experiment: Any, system: Any, shop: FakeShop, journal_dir: Path | None = None
) -> ExperimentResult:
    return run_experiment(
        experiment,
        system,
        journal_dir=journal_dir,
        transport=shop.transport,
        scrape_interval=0.1,
        tick=0.05,
    )


def _experiment(tmp_path: Path, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "title": "slow payments open the breaker",
        "seed": 11,
        "steady_state": {
            "probes": [
                {"name": "gateway healthy", "http": {"service": "gateway"}},
                {"name": "breaker closed", "breaker": "orders->payments"},
            ]
        },
        "method": slow_payments_method(),
        "assertions": [
            *slow_payments_assertions(),
            {
                "name": "gateway answers after heal",
                "http": {"service": "gateway", "path": "/health"},
                "after": "end",
                "within": "5s",
            },
            {
                "name": "invariants hold",
                "invariant": "checks.py:no_violation",
                "after": "end",
                "within": "5s",
            },
        ],
    }
    data.update(overrides)
    (tmp_path / "checks.py").write_text(
        "from harness.chaos import InvariantReport\n"
        "SEEN = []\n"
        "def no_violation(system, *, initial_stock):\n"
        "    SEEN.append(dict(initial_stock))\n"
        "    return InvariantReport(checked={'orders': 1})\n",
        encoding="utf-8",
    )
    return parse_experiment(data, source=str(tmp_path / "exp.yaml"))


def test_a_resilient_system_passes_every_assertion_and_is_rolled_back(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system)
    result = _run(_experiment(tmp_path), system, shop, tmp_path / "journals")
    assert result.status == "passed", result.summary()
    assert [a.status for a in result.assertions] == ["passed"] * 5
    assert result.seed == 11
    assert [e.action for e in result.fault_events] == ["apply", "remove"]
    assert system.injector.active_toxics() == []
    assert "reset" in system.log  # rollback resets every proxy
    assert len(result.traffic_context["initial_stock"]) == 1
    assert len(result.steady_before) == len(result.steady_after) == 2
    assert any(r.status == 503 for r in result.traffic)


def test_the_journal_records_status_steady_states_timeline_evidence_and_seed(
    tmp_path: Path,
) -> None:
    system = fake_system()
    shop = FakeShop(system)
    result = _run(_experiment(tmp_path), system, shop, tmp_path)
    assert result.journal_path is not None
    assert result.report_path is not None
    journal = json.loads(result.journal_path.read_text())
    assert journal["status"] == "passed"
    assert journal["seed"] == 11
    assert journal["replay"].endswith("exp.yaml --seed 11")
    assert journal["experiment"]["title"] == "slow payments open the breaker"
    assert [p["ok"] for p in journal["steady_states"]["before"]] == [True, True]
    assert {e["kind"] for e in journal["timeline"]} >= {
        "steady/before",
        "fault",
        "assertion",
        "verdict",
    }
    opened = journal["assertions"][0]
    assert opened["status"] == "passed"
    assert opened["evidence"]["window"][0] == pytest.approx(
        journal["anchors"]["slow-payments.start"]
    )
    assert "orders" in journal["metrics"]
    assert journal["traffic"]["requests"]
    paths = journal["traffic"]["paths"]
    assert paths["place_order"]["total"] == len(journal["traffic"]["requests"])
    assert journal["traffic"]["context"]["initial_stock"]
    html = result.report_path.read_text()
    assert "<svg" in html
    assert "breaker orders-&gt;payments" in html
    assert "<h2>Traffic</h2>" in html


def test_a_system_without_the_protection_fails_naming_the_assertion(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system, breaker_follows_faults=False)
    experiment = _experiment(
        tmp_path,
        assertions=[
            {
                "name": "breaker opens within 5 s of the fault",
                "breaker": "orders->payments",
                "state": "open",
                "after": "slow-payments.start",
                "within": "1s",
            }
        ],
    )
    result = _run(experiment, system, shop)
    assert result.status == "failed"
    assert [a.name for a in result.failed_assertions] == ["breaker opens within 5 s of the fault"]
    assert "never open" in result.failed_assertions[0].summary
    text = render_text(result)
    assert "FAIL breaker opens within 5 s of the fault" in text
    assert "replay: harness chaos run" in text
    assert system.injector.active_toxics() == []


def test_a_steady_state_that_does_not_hold_aborts_before_any_fault(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system)
    experiment = _experiment(
        tmp_path,
        steady_state={
            "probes": [{"name": "missing page", "http": {"service": "gateway", "path": "/nope"}}]
        },
    )
    result = _run(experiment, system, shop)
    assert result.status == "aborted"
    assert "steady state did not hold before" in result.reason
    assert result.fault_events == []
    assert not any(line.startswith("add_toxic") for line in system.log)
    assert result.steady_after == []
    assert "missing page" in render_html(result)


def test_an_experiment_naming_an_unknown_edge_aborts_with_the_key(tmp_path: Path) -> None:
    system = fake_system()
    system.edges.pop("orders->payments")
    result = _run(_experiment(tmp_path), system, FakeShop(system))
    assert result.status == "aborted"
    assert "method.faults.0.edge: unknown edge 'orders->payments'" in result.reason


def test_env_the_running_system_lacks_aborts_with_what_to_do(tmp_path: Path) -> None:
    env = {name: {"BREAKER_OPEN_SECONDS": 2} for name in SERVICES}
    system = fake_system(fake_topology(**{**env, "orders": {"BREAKER_OPEN_SECONDS": 5}}))
    experiment = _experiment(tmp_path, env={"BREAKER_OPEN_SECONDS": 2})
    result = _run(experiment, system, FakeShop(system))
    assert result.status == "aborted"
    assert "needs BREAKER_OPEN_SECONDS=2 (service orders has 5)" in result.reason
    assert "Topology.with_env" in result.reason


def test_a_fault_without_duration_lasts_until_the_method_ends_then_is_rolled_back(
    tmp_path: Path,
) -> None:
    system = fake_system()
    shop = FakeShop(system)
    experiment = _experiment(
        tmp_path,
        method={
            "duration": 0.5,
            "faults": [
                {"label": "cut", "edge": "orders->inventory", "toxic": "partition", "start": 0}
            ],
        },
        assertions=[],
    )
    result = _run(experiment, system, shop)
    assert result.status == "passed", result.summary()
    assert [e.action for e in result.fault_events] == ["apply", "rollback"]
    assert system.injector.partitioned == set()
    assert result.anchors["cut.end"] <= result.anchors["end"]


def test_fail_fast_stops_at_the_first_failure_and_skips_the_rest(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system, breaker_follows_faults=False)
    experiment = _experiment(
        tmp_path,
        assertions=[
            {
                "name": "breaker opens",
                "breaker": "orders->payments",
                "state": "open",
                "after": "slow-payments.start",
                "within": "0.2s",
            },
            {
                "name": "gateway answers long after",
                "http": {"service": "gateway"},
                "after": "end + 30s",
                "within": "5s",
            },
        ],
    )
    result = run_experiment(
        experiment, system, transport=shop.transport, scrape_interval=0.1, tick=0.05, fail_fast=True
    )
    assert result.status == "failed"
    assert result.failed_names == ["breaker opens"]
    assert [a.status for a in result.assertions] == ["failed", "skipped"]
    assert result.anchors.get("end") is None
    assert system.injector.active_toxics() == []


def test_the_live_view_shows_faults_breakers_traffic_and_assertions(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    system = fake_system()
    shop = FakeShop(system)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None)
    result = run_experiment(
        _experiment(tmp_path),
        system,
        transport=shop.transport,
        scrape_interval=0.1,
        tick=0.05,
        console=console,
        live=True,
    )
    assert result.passed, result.summary()
    shown = screen.getvalue()
    assert "breaker opens within 5 s of the fault" in shown
    assert "orders->payments=" in shown
    assert "place_order" in shown
    assert "passed" in shown


def test_plain_lines_replace_the_live_view_off_a_terminal(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    system = fake_system()
    screen = io.StringIO()
    console = Console(file=screen, width=200, color_system=None)
    run_experiment(
        _experiment(tmp_path, assertions=[]),
        system,
        transport=FakeShop(system).transport,
        scrape_interval=0.1,
        tick=0.05,
        console=console,
    )
    lines = screen.getvalue().splitlines()
    assert any("fault" in line and "applied" in line for line in lines)
    assert any("verdict" in line and "PASSED" in line for line in lines)


def test_fail_fast_still_judges_assertions_whose_window_has_closed(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system)
    missing = {"http": {"service": "gateway", "path": "/missing"}, "after": "start", "within": 0.3}
    experiment = _experiment(
        tmp_path,
        assertions=[
            {"name": "first page", **missing, "interval": 0.05},
            {"name": "second page", **missing, "interval": 0.07},
        ],
    )
    result = run_experiment(
        experiment, system, transport=shop.transport, scrape_interval=0.1, tick=0.05, fail_fast=True
    )
    assert result.failed_names == ["first page", "second page"]


def test_a_load_profile_that_cannot_run_fails_the_experiment_with_the_reason(
    tmp_path: Path,
) -> None:
    system = fake_system()
    experiment = _experiment(
        tmp_path,
        method={"duration": 0.3, "load": {"profile": "missing.yaml"}},
        assertions=[],
    )
    result = _run(experiment, system, FakeShop(system), tmp_path / "journals")
    assert result.status == "failed"
    assert result.load is not None
    assert "missing.yaml" in str(result.load["error"])
    assert any(error.startswith("load profile") for error in result.errors)


def test_scrape_failures_are_recorded_in_the_journal_and_the_summary(tmp_path: Path) -> None:
    system = fake_system()
    shop = FakeShop(system)
    shop.metrics_broken.add("notifications")
    result = _run(_experiment(tmp_path), system, shop, tmp_path / "journals")
    assert result.status == "passed", result.summary()
    assert result.scrape_failures
    assert {f["service"] for f in result.scrape_failures} == {"notifications"}
    assert result.journal_path is not None
    journal = json.loads(result.journal_path.read_text())
    assert journal["scrape_failures"] == len(result.scrape_failures)
    assert "HTTP 500" in journal["scrape_failure_details"][0]["error"]
    assert any(
        event["kind"] == "metrics" and "notifications" in event["message"]
        for event in journal["timeline"]
    )


def test_the_journal_keeps_every_series_the_assertions_and_conventions_name(
    tmp_path: Path,
) -> None:
    system = fake_system()
    shop = FakeShop(system)
    result = _run(_experiment(tmp_path), system, shop, tmp_path / "journals")
    kept = {
        sample["name"]
        for scrapes in result.metrics.values()
        for scrape in scrapes
        for sample in scrape["samples"]
    }
    assert "shop_breaker_state" in kept  # the topology's breaker convention
    assert set(result.breaker_series) == {"orders->payments"}


def test_an_upper_bound_on_a_misspelled_metric_fails_naming_it(tmp_path: Path) -> None:
    system = fake_system()
    typo = {
        "name": "retries bounded",
        "metric": "shop_breaker_transitons_total",
        "service": "orders",
        "measure": "increase",
        "at_most": 5,
    }
    result = _run(_experiment(tmp_path, assertions=[typo]), system, FakeShop(system))
    assert result.status == "failed"
    [check] = result.assertions
    assert check.status == "failed"
    assert "orders never exposed a metric named shop_breaker_transitons_total" in check.summary
    assert "did you mean shop_breaker_transitions_total" in check.summary
