"""The chaos report: a run against the in-process fake shop, rendered in the shared stack."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from chaos_paths import CHAOS_DIR
from fake_shop import FakeShop, fake_system, slow_payments_assertions, slow_payments_method

from harness.chaos import ExperimentResult, parse_experiment, run_experiment
from harness.chaos.report import (
    assertion_rows,
    breaker_conventions,
    render_html,
    render_text,
    timeline_figures,
)
from harness.topology.conventions import BreakerConvention

# The fake shop follows the reference system's convention; the report is told it, as the
# run records it from a topology.
CONVENTION = BreakerConvention(metric="shop_breaker_state")
EXPERIMENT: dict[str, Any] = {
    "title": "slow payments open the breaker",
    "description": "a long description " * 40,
    "seed": 11,
    "method": slow_payments_method(),
    "assertions": slow_payments_assertions(),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> ExperimentResult:
    system = fake_system()
    shop = FakeShop(system)
    experiment = parse_experiment(EXPERIMENT, source=str(CHAOS_DIR / "report_test.yaml"))
    journal_dir = tmp_path_factory.mktemp("journal")
    outcome = run_experiment(
        experiment,
        system,
        journal_dir=journal_dir,
        transport=shop.transport,
        scrape_interval=0.1,
        tick=0.05,
    )
    assert outcome.traffic, "the fake shop's traffic must have run for these tests to mean much"
    return outcome


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)


def test_report_draws_traffic_latency_breaker_and_assertion_lanes(
    result: ExperimentResult,
) -> None:
    page = render_html(result, breakers={"orders": CONVENTION})
    titles = [f.title for f in timeline_figures(result, {"orders": CONVENTION})]
    assert titles == ["traffic", "latency", "breaker state", "assertion windows"]
    svgs = _svgs(page)
    assert len(svgs) == 4
    traffic, latency, breakers, windows = svgs
    assert "ok/s" in traffic
    assert "not ok/s" in traffic
    assert "requests/s" in traffic
    assert "p95" in latency
    assert "p50" in latency
    assert "ms" in latency
    assert "orders-&gt;payments" in breakers or "orders->payments" in breakers
    assert "closed" in breakers
    assert "open" in breakers
    assert "slow-payments" in traffic  # the fault window is labelled
    assert "passed" in windows or "failed" in windows


def test_every_plot_spans_the_whole_run_counted_from_the_method_start(
    result: ExperimentResult,
) -> None:
    from harness.chaos.report import _fault_bands

    # Time 0 is the method's start, as the assertions ("decided at +7.3s"), the run log
    # and the terminal count; the steady state before it sits below 0, so the whole run
    # is drawn and the fault band sits at its offset in the method.
    assert result.method_started_at is not None
    (band,) = _fault_bands(result, result.method_started_at)
    assert band.start == pytest.approx(0.3, abs=0.25)
    for svg in _svgs(render_html(result, breakers={"orders": CONVENTION})):
        assert "seconds since the method started (below 0: the steady-state checks)" in svg


def test_without_a_breaker_convention_the_report_says_why_there_are_no_lanes(
    result: ExperimentResult,
) -> None:
    result.system = {**result.system, "breakers": {}}  # a topology that declares none
    assert breaker_conventions(result) == {}
    page = render_html(result)
    assert len(_svgs(page)) == 3
    assert "declares no breaker" in page


def test_assertions_are_rows_of_the_shared_checks_table(result: ExperimentResult) -> None:
    rows = assertion_rows(result)
    assert [r.name for r in rows] == [a.name for a in result.assertions]
    assert all(r.status in ("passed", "failed", "pending", "skipped") for r in rows)
    page = render_html(result)
    assert page.count('<table class="checks">') == 1
    # Evidence is folded and pre-wrapped: a long line cannot run off the page.
    assert "<details><summary>evidence</summary><pre>" in page
    assert "pre { white-space: pre-wrap; overflow-wrap: anywhere;" in page


def test_text_report_ends_with_the_journal_and_report_paths(result: ExperimentResult) -> None:
    assert result.journal_path is not None
    assert result.report_path is not None
    text = render_text(result)
    assert f"journal: {result.journal_path}" in text
    assert f"report:  {result.report_path}" in text
    assert Path(result.report_path).read_text().startswith("<!DOCTYPE html>")


def test_breaker_conventions_come_back_from_what_the_run_recorded(
    result: ExperimentResult,
) -> None:
    recorded = {"orders": CONVENTION.model_dump()}
    result.system = {**result.system, "breakers": recorded}
    try:
        assert breaker_conventions(result) == {"orders": CONVENTION}
        assert len(_svgs(render_html(result))) == 4
    finally:
        result.system = {k: v for k, v in result.system.items() if k != "breakers"}


def test_an_edge_an_assertion_names_keeps_its_lane_when_its_breaker_never_moved(
    result: ExperimentResult,
) -> None:
    from harness.chaos.report import _breaker_series

    flat = copy.deepcopy(result.metrics)  # as with the breaker switched off: always closed
    for scrapes in flat.values():
        for scrape in scrapes:
            for sample in scrape["samples"]:
                sample["value"] = 0.0
    series, _ = _breaker_series(
        dataclasses.replace(result, metrics=flat), {"orders": CONVENTION}, result.started_at
    )
    assert list(series) == ["orders->payments"]
    assert {value for _, value in series["orders->payments"]} == {0.0}
