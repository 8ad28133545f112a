"""SLOs, breaker assertions, invariants, benchmark figures and the report, on made-up data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.assertions import Check
from harness.faults import TimelineEvent
from harness.load.assertions import evaluate_assertions, load_anchors
from harness.load.invariants import run_invariants
from harness.load.profile import Benchmark, RequestSLO, parse_profile
from harness.load.report import render_report
from harness.load.results import HistoryTick, LocustResult, RequestStats, TickEntry, percentile
from harness.load.summary import LoadSummary, benchmark_check, benchmark_figures, request_rows
from harness.load.verdict import evaluate_slos
from harness.observe.metrics import parse_metrics
from harness.observe.timeline import Timeline
from harness.topology import BreakerConvention, Edge, ResolvedConventions

T0 = 1_000.0


def stats(name: str, histogram: dict[int, int], failures: int = 0) -> RequestStats:
    method, _, _ = name.partition(" ")
    requests = sum(histogram.values())
    return RequestStats(
        method=method,
        name=name,
        requests=requests,
        failures=failures,
        avg_ms=sum(ms * n for ms, n in histogram.items()) / requests,
        min_ms=min(histogram),
        max_ms=max(histogram),
        histogram=histogram,
    )


def result(*requests: RequestStats, history: list[HistoryTick] | None = None) -> LocustResult:
    return LocustResult(
        started_at=T0, ended_at=T0 + 10, requests=list(requests), history=history or []
    )


# -- percentiles ------------------------------------------------------------------------


def test_percentile_follows_locust_rule() -> None:
    histogram = {10: 90, 100: 9, 1000: 1}
    assert percentile(histogram, 0.5) == 10
    assert percentile(histogram, 0.95) == 100
    assert percentile(histogram, 0.99) == 1000  # Locust counts the 100th of 100 as p99
    assert percentile(histogram, 0.98) == 100
    assert percentile({}, 0.95) is None


# -- SLOs -------------------------------------------------------------------------------


def test_slo_met_passes_with_its_figure() -> None:
    run = result(stats("GET /api/products", {20: 100}))
    [check] = evaluate_slos({"GET /api/products": RequestSLO(p95_ms=250)}, run)
    assert check.passed
    assert check.observed == 20
    assert check.miss is None


def test_slo_missed_says_which_and_by_how_much() -> None:
    run = result(stats("POST /api/orders", {100: 90, 400: 10}))
    [check] = evaluate_slos({"POST /api/orders": RequestSLO(p95_ms=250)}, run)
    assert not check.passed
    assert check.name == "p95 of POST /api/orders"
    assert (check.observed, check.limit, check.miss) == (400, 250, 150)
    assert check.detail == (
        "p95 of POST /api/orders was 400 ms, limit <= 250 ms: missed by 150 ms (+60%)"
    )


def test_failure_ratio_and_throughput_slos_over_all_requests() -> None:
    run = result(stats("GET /a", {5: 90}, failures=9), stats("GET /b", {5: 10}, failures=1))
    ratio, rps = evaluate_slos({"total": RequestSLO(max_failure_ratio=0.05, min_rps=20)}, run)
    assert not ratio.passed
    assert ratio.observed == pytest.approx(0.10)
    assert "missed by 5.00%" in ratio.detail
    assert not rps.passed
    assert rps.observed == pytest.approx(10.0)  # 100 requests in 10 s
    assert rps.miss == pytest.approx(10.0)


def test_slo_key_may_omit_the_method() -> None:
    run = result(
        RequestStats(
            method="GET",
            name="/health",
            requests=1,
            failures=0,
            avg_ms=1,
            min_ms=1,
            max_ms=1,
            histogram={1: 1},
        )
    )
    [by_name] = evaluate_slos({"/health": RequestSLO(p95_ms=5)}, run)
    [by_key] = evaluate_slos({"GET /health": RequestSLO(p95_ms=5)}, run)
    assert by_name.passed
    assert by_key.passed


def test_slo_on_a_request_that_never_ran_fails_and_lists_known_names() -> None:
    run = result(stats("GET /api/products", {5: 1}))
    [check] = evaluate_slos({"POST /api/order": RequestSLO(p95_ms=250)}, run)
    assert not check.passed
    assert "no requests named 'POST /api/order'" in check.detail
    assert "GET /api/products" in check.detail


# -- breaker assertions -----------------------------------------------------------------


SHOP_BREAKER = BreakerConvention(
    metric="shop_breaker_state", transitions="shop_breaker_transitions_total"
)


def breaker_timeline(states: list[tuple[float, int]]) -> Timeline:
    return Timeline(
        breakers={Edge("orders", "payments"): SHOP_BREAKER, Edge("orders", "users"): SHOP_BREAKER},
        snapshots={
            "orders": [
                parse_metrics(
                    f'shop_breaker_state{{service="orders",dependency="payments"}} {s}\n'
                    'shop_breaker_state{service="orders",dependency="users"} 0\n',
                    scraped_at=T0 + t,
                )
                for t, s in states
            ]
        },
    )


def event(action: str, at: float, *, ok: bool = True, error: str | None = None) -> TimelineEvent:
    return TimelineEvent(
        label="slow",
        at=T0 + at,
        offset=at,
        action=action,
        fault_index=0,
        kind="edge",  # type: ignore[arg-type]
        target="orders->payments",
        description="latency",
        ok=ok,
        error=error,
    )


def chaos_profile(tmp_path: Path, assertions: list[dict[str, Any]]) -> Any:
    (tmp_path / "lf.py").write_text("")
    return parse_profile(
        {
            "locustfile": "lf.py",
            "users": 1,
            "duration": 30,
            "faults": [
                {
                    "label": "slow",
                    "edge": "orders->payments",
                    "toxic": "latency",
                    "attributes": {"latency": 900},
                    "start": 5,
                    "duration": 10,
                }
            ],
            "assertions": assertions,
        },
        base_dir=tmp_path,
    )


def shop_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions(metrics="/metrics", breaker=SHOP_BREAKER)


def judge(
    profile: Any,
    timeline: Timeline,
    events: list[TimelineEvent],
    conventions: Any = shop_conventions,
) -> list[Check]:
    """The profile's assertions judged like a run ending at T0 + 30 judges them."""
    anchors = load_anchors(events, started_at=T0, ended_at=T0 + 30)
    return evaluate_assertions(profile, timeline, anchors, conventions=conventions, events=events)


BREAKER_ASSERTIONS = [
    {"type": "breaker_opened", "edge": "orders->payments", "during": "slow"},
    {"type": "breaker_closed", "edge": "orders->payments", "after": "slow", "within": 8},
    {"type": "breaker_stayed_closed", "edge": "orders->users"},
]


def test_breaker_that_opens_in_the_window_and_closes_after_passes(tmp_path: Path) -> None:
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS)
    timeline = breaker_timeline([(0, 0), (5, 0), (8, 1), (13, 2), (14, 1), (17, 2), (19, 0)])
    events = [event("apply", 5), event("remove", 15)]
    opened, closed, isolated = judge(profile, timeline, events)
    assert opened.passed
    assert opened.observed == 3
    assert closed.passed
    assert closed.observed == 4
    assert isolated.passed


def test_breaker_that_never_opens_fails_the_assertion(tmp_path: Path) -> None:
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS[:1])
    timeline = breaker_timeline([(t, 0) for t in range(0, 30, 1)])
    events = [event("apply", 5), event("remove", 15)]
    [opened] = judge(profile, timeline, events)
    assert not opened.passed
    assert "never open in the window; last value closed" in opened.detail
    assert opened.evidence["scrapes"] == 13  # [5, 15 + 2 s grace]


def test_breaker_that_closes_too_late_says_by_how_much(tmp_path: Path) -> None:
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS[1:2])
    timeline = breaker_timeline([(10, 1), (20, 1), (26, 0)])
    events = [event("apply", 5), event("remove", 15)]
    [closed] = judge(profile, timeline, events)
    assert not closed.passed
    assert closed.observed == 11
    assert "missed by 3.0s" in closed.detail


def test_fault_that_failed_to_apply_fails_its_assertion(tmp_path: Path) -> None:
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS[:1])
    timeline = breaker_timeline([(0, 0)])
    events = [event("apply", 5, ok=False, error="FaultProxyUnavailable: down")]
    [opened] = judge(profile, timeline, events)
    assert not opened.passed
    assert "FaultProxyUnavailable" in opened.detail


def test_edge_without_breaker_metrics_names_the_series_it_looked_for(tmp_path: Path) -> None:
    profile = chaos_profile(
        tmp_path, [{"type": "breaker_opened", "edge": "gateway->orders", "during": 0}]
    )
    events = [event("apply", 5), event("remove", 15)]
    [check] = judge(profile, breaker_timeline([(0, 0)]), events)
    assert not check.passed
    assert 'no series shop_breaker_state{dependency="orders"}' in check.detail
    assert "from gateway" in check.detail


def test_breaker_stayed_closed_failing_says_which_metric_and_labels_it_looked_for(
    tmp_path: Path,
) -> None:
    profile = chaos_profile(
        tmp_path, [{"type": "breaker_stayed_closed", "edge": "orders -> inventory"}]
    )
    [check] = judge(profile, breaker_timeline([(t, 0) for t in range(30)]), [])
    assert not check.passed
    assert 'shop_breaker_state{dependency="inventory"}' in check.detail
    assert 'its shop_breaker_state series have labels: {dependency="payments"' in check.detail


def test_a_system_with_its_own_breaker_metric_is_read_through_its_convention(
    tmp_path: Path,
) -> None:
    """No shop name anywhere: a breaker gauge called `cb_status` with an `upstream` label
    and its own state values."""
    convention = BreakerConvention(
        metric="cb_status",
        labels={"caller": "{source}", "upstream": "{target}"},
        states={"closed": 10, "open": 20, "half_open": 30},
    )
    timeline = Timeline(
        {
            "orders": [
                parse_metrics(
                    f'cb_status{{caller="orders",upstream="payments"}} {state}\n',
                    scraped_at=T0 + t,
                )
                for t, state in [(0, 10), (5, 10), (8, 20), (16, 10), (19, 10)]
            ]
        }
    )
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS[:2])
    opened, closed = judge(
        profile,
        timeline,
        [event("apply", 5), event("remove", 15)],
        conventions=lambda service: ResolvedConventions(breaker=convention),
    )
    assert opened.passed, opened.detail
    assert closed.passed, closed.detail


def test_breaker_assertions_without_a_breaker_convention_fail_saying_what_to_declare(
    tmp_path: Path,
) -> None:
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS[2:])
    [check] = judge(
        profile, breaker_timeline([(0, 0)]), [], conventions=lambda s: ResolvedConventions()
    )
    assert not check.passed
    assert "service 'orders' has no breaker convention" in check.detail


def test_full_engine_assertions_sit_beside_the_shorthands_in_a_profile(tmp_path: Path) -> None:
    profile = chaos_profile(
        tmp_path,
        [
            {
                "name": "breaker opens within 5 s of the fault",
                "breaker": "orders->payments",
                "state": "open",
                "after": "slow.start",
                "within": "5s",
            },
            {
                "name": "misspelled metric",
                "metric": "shop_breaker_stat",
                "service": "orders",
                "measure": "increase",
                "at_most": 5,
            },
        ],
    )
    timeline = breaker_timeline([(0, 0), (5, 0), (8, 1), (19, 0)])
    opened, misspelled = judge(profile, timeline, [event("apply", 5), event("remove", 15)])
    assert opened.passed
    assert not misspelled.passed
    assert "orders never exposed a metric named shop_breaker_stat" in misspelled.detail
    assert "did you mean shop_breaker_state" in misspelled.detail


# -- invariants -------------------------------------------------------------------------


def test_invariants_pass_fail_and_report_their_violations(tmp_path: Path) -> None:
    checks_file = tmp_path / "checks.py"
    checks_file.write_text(
        "def holds(system):\n    return []\n"
        "def broken(system):\n    return ['order 7: two captured payments']\n"
        "def crashes(system):\n    raise RuntimeError('orders unreachable')\n"
    )
    holds, broken, crashes, missing = run_invariants(
        [
            f"{checks_file}:holds",
            f"{checks_file}:broken",
            f"{checks_file}:crashes",
            f"{checks_file}:absent",
        ],
        system=None,
        settle=0,
    )
    assert holds.passed
    assert not broken.passed
    assert broken.detail == "order 7: two captured payments"
    assert not crashes.passed
    assert "RuntimeError: orders unreachable" in crashes.detail
    assert not missing.passed
    assert "no function 'absent'" in missing.detail


def test_invariant_that_settles_is_retried_until_it_holds(tmp_path: Path) -> None:
    checks_file = tmp_path / "settling.py"
    checks_file.write_text(
        "calls = []\ndef settles(system):\n    calls.append(1)\n    return len(calls) >= 3\n"
    )
    [check] = run_invariants([f"{checks_file}:settles"], system=None, settle=30, poll=0.01)
    assert check.passed


def test_invariant_report_object_is_understood(tmp_path: Path) -> None:
    checks_file = tmp_path / "reporting.py"
    checks_file.write_text(
        "class Report:\n"  # shaped like harness.chaos.invariants.InvariantReport
        "    ok = False\n"
        "    violations = ['order 7: two captured payments']\n"
        "    def summary(self):\n        return 'order 7: two captured payments'\n"
        "def bad(system):\n    return Report()\n"
    )
    [check] = run_invariants([f"{checks_file}:bad"], system=None, settle=0)
    assert not check.passed
    assert check.detail == "order 7: two captured payments"


def test_invariant_gets_the_context_keywords_it_accepts_and_no_others(tmp_path: Path) -> None:
    checks_file = tmp_path / "stocked.py"
    checks_file.write_text(
        "def stocked(system, *, initial_stock=None):\n    return initial_stock == {'SKU-1': 5}\n"
        "def plain(system):\n    return True\n"
    )
    stocked, plain = run_invariants(
        [f"{checks_file}:stocked", f"{checks_file}:plain"],
        system=None,
        settle=0,
        context={"initial_stock": {"SKU-1": 5}},
    )
    assert stocked.passed
    assert plain.passed


def test_a_checker_file_that_fails_to_import_is_a_failed_check(tmp_path: Path) -> None:
    checks_file = tmp_path / "broken_import.py"
    checks_file.write_text("raise RuntimeError('no database driver')\n")
    [check] = run_invariants([f"{checks_file}:check"], system=None, settle=0)
    assert not check.passed
    assert "failed to import: no database driver" in check.detail


def test_resolving_the_shop_invariants_does_not_import_the_chaos_layer() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "from harness.assertions.invariants import resolve_invariant\n"
        "resolve_invariant('chaos/shop_invariants.py:check_shop_invariants')\n"
        "assert 'harness.chaos' not in sys.modules, sorted(sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# -- benchmark and report ---------------------------------------------------------------


def tick(t: float, users: int, requests: int, ms: int, failures: int = 0) -> HistoryTick:
    entry = TickEntry(requests=requests, failures=failures, histogram={ms: requests})
    return HistoryTick(t=T0 + t, users=users, entries={"POST /api/orders": entry})


def test_benchmark_picks_the_fastest_stage_within_the_latency_bound(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text("")
    profile = parse_profile(
        {
            "locustfile": "lf.py",
            "stages": [
                {"duration": 10, "users": 5, "spawn_rate": 5},
                {"duration": 10, "users": 10, "spawn_rate": 5},
            ],
        },
        base_dir=tmp_path,
    )
    history = [tick(t, 5, 10, 100) for t in range(1, 11)]
    history += [tick(t, 10, 30, 400) for t in range(11, 21)]
    run = result(stats("POST /api/orders", {100: 100, 400: 300}), history=history)
    figures = benchmark_figures(profile, run, Benchmark(p95_ms=250))
    first, second = figures.stages
    assert first.met
    assert first.p95_ms == 100
    assert first.request_rps == pytest.approx(10.0)
    assert not second.met
    assert figures.sustainable_rps == pytest.approx(10.0)
    assert figures.at_users == 5


def test_benchmark_gate_fails_below_the_minimum_rate_and_says_by_how_much(
    tmp_path: Path,
) -> None:
    (tmp_path / "lf.py").write_text("")
    profile = parse_profile(
        {"locustfile": "lf.py", "stages": [{"duration": 10, "users": 5, "spawn_rate": 5}]},
        base_dir=tmp_path,
    )
    history = [tick(t, 5, 10, 100) for t in range(1, 11)]
    run = result(stats("POST /api/orders", {100: 100}), history=history)
    figures = benchmark_figures(profile, run, Benchmark(p95_ms=250))
    assert benchmark_check(figures, 5.0).passed
    check = benchmark_check(figures, 12.0)
    assert not check.passed
    assert check.name == "sustainable POST /api/orders/s at p95 < 250 ms"
    assert "missed by 2.00/s" in check.detail


def test_report_puts_the_verdict_first_and_embeds_plots(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text("")
    profile = parse_profile({"locustfile": "lf.py", "users": 1, "duration": 10}, base_dir=tmp_path)
    run = result(
        stats("POST /api/orders", {100: 90, 400: 10}),
        history=[tick(0, 0, 0, 1), *(tick(t, 5, 10, 100) for t in range(1, 11))],
    )
    checks = evaluate_slos({"POST /api/orders": RequestSLO(p95_ms=250)}, run)
    rows, total = request_rows(run)
    summary = LoadSummary(
        profile="demo",
        source="demo.yaml",
        passed=False,
        exit_code=1,
        started_at=T0,
        ended_at=T0 + 10,
        workers=0,
        checks=checks,
        total=total,
        requests=rows,
        errors=[],
        faults=[],
        fault_events=[],
        benchmark=None,
        cpu=None,
    )
    html = render_report(
        summary=summary, result=run, timeline=breaker_timeline([(0, 0), (5, 1)]), profile=profile
    )
    verdict = html.index("FAIL")
    assert verdict < html.index("<svg") < html.index("<h2>Requests</h2>")
    assert "missed by 150 ms (+60%)" in html
    assert html.count("<svg") == 5  # latency, throughput, errors, breakers, per request


# -- validation against the system, before anything starts -------------------------------


def test_a_profile_is_checked_against_the_topology_before_the_run(tmp_path: Path) -> None:
    from harness.load.profile import ProfileError, check_profile_against

    edges = ["orders->payments", "orders->users"]
    services = ["orders", "payments", "users"]
    profile = chaos_profile(tmp_path, BREAKER_ASSERTIONS)
    check_profile_against(profile, edges=edges, services=services, conventions=shop_conventions)
    with pytest.raises(ProfileError, match=r"assertions\.0\.breaker: service 'orders' has no"):
        check_profile_against(
            profile, edges=edges, services=services, conventions=lambda s: ResolvedConventions()
        )
    stray = chaos_profile(tmp_path, [{"type": "breaker_stayed_closed", "edge": "orders->nowhere"}])
    with pytest.raises(
        ProfileError, match=r"assertions\.0\.breaker: unknown edge 'orders->nowhere'"
    ):
        check_profile_against(stray, edges=edges, services=services)
