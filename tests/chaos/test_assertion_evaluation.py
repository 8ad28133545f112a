"""Assertions judged on synthetic metric timelines and traffic records (no services)."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from harness.assertions import (
    Anchors,
    BreakerAssertion,
    Check,
    EvaluationContext,
    MetricAssertion,
    TrafficAssertion,
    TrafficView,
)
from harness.assertions.series import percentile
from harness.chaos import parse_experiment
from harness.faults import TimelineEvent
from harness.observe.metrics import MetricSnapshot, Sample
from harness.observe.timeline import Timeline
from harness.topology import BreakerConvention, ResolvedConventions
from harness.traffic import TrafficRecord

T0 = 1_000.0  # the method's start


def _snapshot(t: float, series: list[tuple[str, dict[str, str], float]]) -> MetricSnapshot:
    grouped: dict[str, list[Sample]] = {}
    for name, labels, value in series:
        grouped.setdefault(name, []).append(Sample(name, labels, value))
    return MetricSnapshot({k: tuple(v) for k, v in grouped.items()}, scraped_at=t)


def _breaker_timeline(
    states: list[float], *, transitions: dict[str, list[float]] | None = None
) -> Timeline:
    """orders' breaker on payments, one scrape per second from T0 (state per second)."""
    snapshots = []
    for second, state in enumerate(states):
        series: list[tuple[str, dict[str, str], float]] = [
            ("shop_breaker_state", {"service": "orders", "dependency": "payments"}, state)
        ]
        for key, values in (transitions or {}).items():
            from_state, to_state = key.split("->")
            series.append(
                (
                    "shop_breaker_transitions_total",
                    {
                        "service": "orders",
                        "dependency": "payments",
                        "from_state": from_state,
                        "to_state": to_state,
                    },
                    values[second],
                )
            )
        snapshots.append(_snapshot(T0 + second, series))
    return Timeline({"orders": snapshots})


def _gauge_timeline(name: str, values: list[float], *, service: str = "orders") -> Timeline:
    return Timeline(
        {
            service: [
                _snapshot(T0 + i, [(name, {"service": service}, v)]) for i, v in enumerate(values)
            ]
        }
    )


# The reference shop's breaker convention, as its system.toml declares it.
SHOP_BREAKER = BreakerConvention(
    metric="shop_breaker_state", transitions="shop_breaker_transitions_total"
)


def shop_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions(metrics="/metrics", breaker=SHOP_BREAKER)


def _judge(
    assertion: Any,
    anchors: Anchors,
    *,
    now: float,
    final: bool = False,
    grace: float = 1.0,
    timeline: Timeline | None = None,
    traffic: TrafficView | None = None,
) -> Check:
    check = assertion.evaluate(
        EvaluationContext(
            anchors=anchors,
            now=now,
            final=final,
            grace=grace,
            timeline=timeline,
            traffic=traffic or TrafficView(),
            conventions=shop_conventions,
        )
    )
    assert isinstance(check, Check)
    return check


def evaluate_breaker(assertion: Any, timeline: Timeline, anchors: Anchors, **kwargs: Any) -> Check:
    return _judge(assertion, anchors, timeline=timeline, **kwargs)


evaluate_metric = evaluate_breaker


def evaluate_traffic(
    assertion: Any,
    records: list[TrafficRecord],
    anchors: Anchors,
    *,
    settle: float = 0.0,
    in_flight: tuple[float, ...] | list[float] = (),
    **kwargs: Any,
) -> Check:
    traffic = TrafficView(records=records, in_flight=in_flight, settle=settle)
    return _judge(assertion, anchors, traffic=traffic, **kwargs)


def _anchors(**times: float) -> Anchors:
    anchors = Anchors({"start": T0})
    for key, offset in times.items():
        anchors.set(key.replace("__", "."), T0 + offset)
    return anchors


def _assertion(data: dict[str, Any], *, faults: list[dict[str, Any]] | None = None) -> Any:
    experiment = parse_experiment(
        {
            "title": "t",
            "method": {
                "faults": faults
                or [
                    {
                        "label": "slow",
                        "edge": "orders->payments",
                        "toxic": "latency",
                        "start": 2,
                        "duration": 6,
                    }
                ],
                "traffic": {"class": "shop_traffic.py:ShopTraffic", "rate": 1},
            },
            "assertions": [{"name": "a", **data}],
        }
    )
    return experiment.assertions[0]


# --- breaker ---------------------------------------------------------------------------


def test_breaker_open_within_deadline_passes_with_the_delay_as_evidence() -> None:
    assertion = _assertion(
        {"breaker": "orders->payments", "state": "open", "after": "slow.start", "within": "5s"}
    )
    assert isinstance(assertion, BreakerAssertion)
    timeline = _breaker_timeline([0, 0, 0, 0, 1, 1, 1])
    verdict = evaluate_breaker(assertion, timeline, _anchors(slow__start=2), now=T0 + 6)
    assert verdict.status == "passed"
    assert verdict.evidence["satisfied_at"] == 4.0
    assert "2.0s into the window" in verdict.summary


def test_breaker_that_opens_after_the_deadline_fails() -> None:
    assertion = _assertion(
        {"breaker": "orders->payments", "state": "open", "after": "slow.start", "within": "2s"}
    )
    timeline = _breaker_timeline([0, 0, 0, 0, 0, 0, 1, 1])
    verdict = evaluate_breaker(
        assertion, timeline, _anchors(slow__start=2), now=T0 + 7.5, grace=1.0
    )
    assert verdict.status == "failed"
    assert "open 4.0s after slow.start, limit 2s: missed by 2.0s" in verdict.summary
    assert verdict.observed == 4.0
    assert verdict.evidence["window"] == [2.0, 4.0]


def test_breaker_assertion_is_pending_while_the_window_is_open() -> None:
    assertion = _assertion(
        {"breaker": "orders->payments", "state": "open", "after": "slow.start", "within": "5s"}
    )
    timeline = _breaker_timeline([0, 0, 0, 0])
    verdict = evaluate_breaker(assertion, timeline, _anchors(slow__start=2), now=T0 + 3.5)
    assert verdict.status == "pending"


def test_breaker_assertion_waits_for_its_anchor_and_fails_if_it_never_comes() -> None:
    assertion = _assertion(
        {"breaker": "orders->payments", "state": "open", "after": "slow.end", "within": "5s"}
    )
    timeline = _breaker_timeline([0, 1])
    assert evaluate_breaker(assertion, timeline, _anchors(), now=T0 + 2).status == "pending"
    final = evaluate_breaker(assertion, timeline, _anchors(), now=T0 + 2, final=True)
    assert final.status == "failed"
    assert "slow.end did not happen" in final.summary


def test_open_state_shorter_than_a_scrape_is_seen_through_the_transition_counter() -> None:
    assertion = _assertion(
        {"breaker": "orders->payments", "state": "open", "after": "slow.start", "within": "5s"}
    )
    timeline = _breaker_timeline(
        [0, 0, 0, 0, 0, 0, 0, 0],
        transitions={"closed->open": [0, 0, 0, 1, 1, 1, 1, 1]},
    )
    verdict = evaluate_breaker(assertion, timeline, _anchors(slow__start=2), now=T0 + 9, final=True)
    assert verdict.status == "passed"
    assert "transition counter" in verdict.summary


def test_breaker_transitions_must_happen_in_order() -> None:
    assertion = _assertion(
        {
            "breaker": "orders->payments",
            "transitions": ["open->half_open", "half_open->closed"],
            "after": "slow.end",
            "within": "8s",
        }
    )
    in_order = _breaker_timeline(
        [1, 1, 2, 0, 0, 0],
        transitions={
            "open->half_open": [0, 0, 1, 1, 1, 1],
            "half_open->closed": [0, 0, 0, 1, 1, 1],
        },
    )
    verdict = evaluate_breaker(assertion, in_order, _anchors(slow__end=1), now=T0 + 6)
    assert verdict.status == "passed"
    assert [s["transition"] for s in verdict.evidence["transitions_seen"]] == [
        "open->half_open",
        "half_open->closed",
    ]


def test_breaker_that_half_opens_but_reopens_fails_naming_the_missing_transition() -> None:
    assertion = _assertion(
        {
            "breaker": "orders->payments",
            "transitions": ["open->half_open", "half_open->closed"],
            "after": "slow.end",
            "within": "4s",
        }
    )
    reopened = _breaker_timeline(
        [1, 1, 2, 1, 1, 1, 1, 1],
        transitions={"open->half_open": [0, 0, 1, 1, 1, 1, 1, 1], "half_open->closed": [0] * 8},
    )
    verdict = evaluate_breaker(assertion, reopened, _anchors(slow__end=1), now=T0 + 7)
    assert verdict.status == "failed"
    assert "no half_open->closed transition after open->half_open" in verdict.summary


def test_breaker_staying_closed_always() -> None:
    assertion = _assertion({"breaker": "orders->payments", "state": "closed", "mode": "always"})
    anchors = _anchors(end=5)
    ok = evaluate_breaker(assertion, _breaker_timeline([0] * 7), anchors, now=T0 + 7)
    assert ok.status == "passed"
    tripped = evaluate_breaker(
        assertion, _breaker_timeline([0, 0, 1, 0, 0, 0, 0]), anchors, now=T0 + 3
    )
    assert tripped.status == "failed"
    assert tripped.evidence["violated_at"] == 2.0


# --- metrics -----------------------------------------------------------------------------


def test_no_saga_in_flight_within_ten_seconds_of_heal() -> None:
    assertion = _assertion(
        {
            "metric": "shop_sagas_in_flight",
            "service": "orders",
            "equals": 0,
            "after": "slow.end",
            "within": "10s",
        }
    )
    assert isinstance(assertion, MetricAssertion)
    drains = _gauge_timeline("shop_sagas_in_flight", [3, 3, 2, 1, 0, 0])
    assert evaluate_metric(assertion, drains, _anchors(slow__end=1), now=T0 + 5).status == "passed"
    stuck = _gauge_timeline("shop_sagas_in_flight", [3] * 14)
    verdict = evaluate_metric(assertion, stuck, _anchors(slow__end=1), now=T0 + 13)
    assert verdict.status == "failed"
    assert "last value 3" in verdict.summary


def test_counter_increase_over_a_window_handles_a_restart() -> None:
    assertion = _assertion(
        {
            "metric": "shop_saga_total",
            "service": "orders",
            "measure": "increase",
            "at_least": 5,
            "after": "start",
            "until": "end",
        }
    )
    # 0 -> 4, then the process restarts (counter back to 0) and counts 3 more.
    timeline = _gauge_timeline("shop_saga_total", [0, 2, 4, 1, 3])
    verdict = evaluate_metric(assertion, timeline, _anchors(end=4), now=T0 + 5.5)
    assert verdict.status == "passed"
    assert verdict.evidence["value"] == 7


def test_increase_is_pending_until_the_window_closes() -> None:
    assertion = _assertion(
        {
            "metric": "shop_saga_total",
            "service": "orders",
            "measure": "increase",
            "equals": 0,
            "until": "end",
        }
    )
    timeline = _gauge_timeline("shop_saga_total", [0, 0, 0])
    assert evaluate_metric(assertion, timeline, _anchors(), now=T0 + 2).status == "pending"
    assert evaluate_metric(assertion, timeline, _anchors(end=2), now=T0 + 3.5).status == "passed"


def test_retries_per_request_ratio_is_bounded() -> None:
    assertion = _assertion(
        {
            "metric": "shop_outbound_retries_total",
            "service": "gateway",
            "labels": {"dependency": "users"},
            "measure": "increase",
            "per": {
                "metric": "shop_outbound_requests_total",
                "service": "gateway",
                "labels": {"dependency": "users"},
            },
            "at_most": 0.5,
        }
    )

    def timeline(retries: list[float], requests: list[float]) -> Timeline:
        return Timeline(
            {
                "gateway": [
                    _snapshot(
                        T0 + i,
                        [
                            (
                                "shop_outbound_retries_total",
                                {"service": "gateway", "dependency": "users"},
                                r,
                            ),
                            (
                                "shop_outbound_requests_total",
                                {"service": "gateway", "dependency": "users"},
                                q,
                            ),
                        ],
                    )
                    for i, (r, q) in enumerate(zip(retries, requests, strict=True))
                ]
            }
        )

    bounded = evaluate_metric(
        assertion, timeline([0, 1, 2], [0, 10, 20]), _anchors(end=2), now=T0 + 3.5
    )
    assert bounded.status == "passed"
    assert bounded.evidence["value"] == pytest.approx(0.1)
    storm = evaluate_metric(
        assertion, timeline([0, 30, 60], [0, 10, 20]), _anchors(end=2), now=T0 + 3.5
    )
    assert storm.status == "failed"


def test_a_metric_the_service_never_exposed_fails_naming_it() -> None:
    assertion = _assertion(
        {
            "metric": "shop_outbox_backlog",
            "service": "orders",
            "above": 0,
            "after": "slow.start",
            "until": "slow.end",
        }
    )
    timeline = _gauge_timeline("something_else", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    verdict = evaluate_metric(
        assertion, timeline, _anchors(slow__start=2, slow__end=8), now=T0 + 10
    )
    assert verdict.status == "failed"
    assert "orders never exposed a metric named shop_outbox_backlog" in verdict.summary


# --- traffic -----------------------------------------------------------------------------


def _record(
    offset: float, *, status: int | None = 201, latency: float = 0.05, op: str = "place_order"
) -> TrafficRecord:
    return TrafficRecord(name=op, started_at=T0 + offset, latency=latency, status=status)


def test_orders_fail_fast_while_the_breaker_is_open() -> None:
    assertion = _assertion(
        {
            "traffic": "place_order",
            "outcome": "error",
            "measure": "p95",
            "at_most": "300ms",
            "after": "slow.start + 3s",
            "until": "slow.end",
        }
    )
    assert isinstance(assertion, TrafficAssertion)
    anchors = _anchors(slow__start=2, slow__end=8)
    fast = [_record(5 + i / 10, status=503, latency=0.02) for i in range(20)]
    slow_before_open = [_record(2.5, status=503, latency=1.5)]  # outside the window
    verdict = evaluate_traffic(assertion, fast + slow_before_open, anchors, now=T0 + 9)
    assert verdict.status == "passed"
    assert verdict.evidence["requests"] == 20
    slow = [_record(6 + i / 10, status=503, latency=1.2) for i in range(5)]
    assert evaluate_traffic(assertion, fast + slow, anchors, now=T0 + 9).status == "failed"


def test_traffic_verdict_waits_for_requests_in_flight_at_the_window_end() -> None:
    assertion = _assertion({"traffic": "any", "outcome": "error", "equals": 0})
    anchors = _anchors(end=10)
    records = [_record(1)]
    still_running = [T0 + 9.5]
    waiting = evaluate_traffic(
        assertion, records, anchors, now=T0 + 11, settle=5, in_flight=still_running
    )
    assert waiting.status == "pending"
    assert evaluate_traffic(assertion, records, anchors, now=T0 + 11, settle=5).status == "passed"
    bounded = evaluate_traffic(
        assertion, records, anchors, now=T0 + 16, settle=5, in_flight=still_running
    )
    assert bounded.status == "passed"


def test_clients_seeing_an_error_fail_a_no_errors_assertion_with_status_counts() -> None:
    assertion = _assertion({"traffic": "any", "outcome": "error", "equals": 0})
    records = [_record(1), _record(2, status=None), _record(3, status=503)]
    verdict = evaluate_traffic(assertion, records, _anchors(end=5), now=T0 + 6)
    assert verdict.status == "failed"
    assert verdict.evidence["statuses"] == {"201": 1, "503": 1, "error": 1}


def test_success_ratio_needs_requests() -> None:
    assertion = _assertion(
        {"traffic": "place_order", "outcome": "ok", "measure": "ratio", "at_least": 0.9}
    )
    verdict = evaluate_traffic(assertion, [], _anchors(end=5), now=T0 + 6)
    assert verdict.status == "failed"
    assert "no place_order requests" in verdict.summary


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95) == 10
    assert percentile([7], 0.99) == 7


# --- anchors -----------------------------------------------------------------------------


def test_fault_anchors_come_from_the_executor_timeline() -> None:
    def event(
        action: Literal["apply", "remove", "rollback"], at: float, *, ok: bool = True
    ) -> TimelineEvent:
        return TimelineEvent(
            at=at, offset=at - T0, action=action, fault_index=0, kind="edge", target="a->b",
            label="slow", description="latency", ok=ok,
        )  # fmt: skip

    anchors = Anchors({"start": T0})
    anchors.record_fault_events([event("apply", T0 + 2.1), event("remove", T0 + 8.3)])
    assert anchors.as_offsets() == {
        "fault-0.end": 8.3,
        "fault-0.start": 2.1,
        "slow.end": 8.3,
        "slow.start": 2.1,
        "start": 0.0,
    }
    failed = Anchors({"start": T0})
    failed.record_fault_events([event("apply", T0 + 2, ok=False)])
    assert failed.time_of_key("slow.start") is None
