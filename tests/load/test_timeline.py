"""The metrics timeline: series, counter rates, breaker states and the background scraper."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.observe.metrics import parse_metrics
from harness.observe.timeline import Point, Timeline, TimelineRecorder, metrics_urls
from harness.topology import BreakerConvention, Edge


def exposition(*, breaker: int, retries: float) -> str:
    return (
        "# TYPE shop_breaker_state gauge\n"
        f'shop_breaker_state{{service="orders",dependency="payments"}} {breaker}\n'
        'shop_breaker_state{service="orders",dependency="users"} 0\n'
        "# TYPE shop_outbound_retries_total counter\n"
        f'shop_outbound_retries_total{{service="orders",dependency="payments"}} {retries}\n'
    )


# orders declares its breakers the way the shop's system.toml does.
BREAKERS = {
    Edge("orders", "payments"): BreakerConvention(metric="shop_breaker_state"),
    Edge("orders", "users"): BreakerConvention(metric="shop_breaker_state"),
}


def timeline_of(states: list[tuple[float, int, float]]) -> Timeline:
    """A timeline of orders' metrics: (t, breaker state of orders->payments, retries)."""
    return Timeline(
        breakers=BREAKERS,
        snapshots={
            "orders": [
                parse_metrics(exposition(breaker=b, retries=r), scraped_at=t) for t, b, r in states
            ]
        },
    )


def test_breaker_states_are_keyed_by_edge_name() -> None:
    timeline = timeline_of([(10.0, 0, 0), (11.0, 1, 0), (12.0, 2, 0), (13.0, 0, 0)])
    states = timeline.breaker_states()
    assert sorted(states) == ["orders->payments", "orders->users"]
    assert [p.value for p in states["orders->payments"]] == [0, 1, 2, 0]
    assert states["orders->payments"][1] == Point(11.0, 1.0)


def test_breaker_was_open_only_inside_the_window_it_opened_in() -> None:
    timeline = timeline_of([(10.0, 0, 0), (11.0, 1, 0), (12.0, 0, 0)])
    assert timeline.breaker_was("orders->payments", 1, start=10.5, end=11.5)
    assert not timeline.breaker_was("orders->payments", 1, start=11.5)
    assert not timeline.breaker_was("orders->users", 1)


def test_rate_is_per_second_between_consecutive_scrapes() -> None:
    timeline = timeline_of([(0.0, 0, 0), (2.0, 0, 10), (3.0, 0, 13)])
    rates = timeline.rate("orders", "shop_outbound_retries_total", dependency="payments")
    assert rates == [Point(2.0, 5.0), Point(3.0, 3.0)]


def test_counter_reset_after_restart_counts_the_new_value_as_increase() -> None:
    timeline = timeline_of([(0.0, 0, 8), (1.0, 0, 10), (2.0, 0, 3)])
    assert timeline.increase("orders", "shop_outbound_retries_total") == 2 + 3


def test_increase_is_limited_to_the_window() -> None:
    timeline = timeline_of([(0.0, 0, 0), (1.0, 0, 5), (2.0, 0, 9), (3.0, 0, 20)])
    assert timeline.increase("orders", "shop_outbound_retries_total", start=1.0, end=2.0) == 4


def test_counter_that_has_not_appeared_yet_counts_as_zero() -> None:
    early = parse_metrics(
        'shop_breaker_state{service="orders",dependency="payments"} 0\n', scraped_at=0
    )
    late = parse_metrics(exposition(breaker=0, retries=4), scraped_at=1.0)
    timeline = Timeline({"orders": [early, late]})
    assert timeline.rate("orders", "shop_outbound_retries_total") == [Point(1.0, 4.0)]
    assert timeline.series("orders", "shop_outbound_retries_total") == [Point(1.0, 4.0)]


def test_first_time_finds_the_first_scrape_satisfying_the_predicate() -> None:
    timeline = timeline_of([(0.0, 0, 0), (1.0, 1, 0), (2.0, 1, 0)])
    opened = timeline.first_time(
        "orders", "shop_breaker_state", lambda v: v == 1, dependency="payments"
    )
    assert opened == 1.0


def test_window_and_span() -> None:
    timeline = timeline_of([(0.0, 0, 0), (1.0, 1, 0), (2.0, 0, 0)])
    assert timeline.span() == (0.0, 2.0)
    assert timeline.window(0.5, 1.5).span() == (1.0, 1.0)


def test_bad_edge_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="caller -> callee"):
        timeline_of([]).breaker_series("orders-payments")


def test_to_dict_exports_only_the_asked_metrics() -> None:
    exported = timeline_of([(0.0, 1, 2)]).to_dict(["shop_breaker_state"])
    names = {s["name"] for s in exported["orders"][0]["samples"]}
    assert names == {"shop_breaker_state"}


def test_timeline_survives_a_round_trip_through_json() -> None:
    timeline = timeline_of([(0.0, 0, 1), (1.0, 1, 3)])
    again = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())), breakers=BREAKERS)
    assert again.breaker_states() == timeline.breaker_states()
    assert again.rate("orders", "shop_outbound_retries_total") == [Point(1.0, 2.0)]


class _MetricsState:
    def __init__(self) -> None:
        self.breaker = 0
        self.retries = 0.0


@pytest.fixture
def metrics_server() -> Iterator[tuple[str, _MetricsState]]:
    """A loopback HTTP server whose /metrics reflects a mutable state."""
    state = _MetricsState()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition(breaker=state.breaker, retries=state.retries).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_until(condition: object, *, deadline_s: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.01)


def test_recorder_scrapes_in_the_background_and_sees_state_changes(
    metrics_server: tuple[str, _MetricsState],
) -> None:
    url, state = metrics_server
    timeline = Timeline(breakers=BREAKERS)
    with TimelineRecorder({"orders": url}, interval=0.05, timeline=timeline) as recorder:
        wait_until(lambda: len(recorder.timeline.snapshots("orders")) >= 2)
        state.breaker = 1
        wait_until(lambda: recorder.timeline.breaker_was("orders->payments", 1))
        state.breaker = 0
        count = len(recorder.timeline.snapshots("orders"))
        wait_until(lambda: len(recorder.timeline.snapshots("orders")) > count)
    values = [p.value for p in recorder.timeline.breaker_series("orders->payments")]
    assert values[0] == 0
    assert 1 in values
    assert values[-1] == 0
    assert not recorder.timeline.failures


def test_recorder_records_failures_of_a_dead_service_and_keeps_scraping_the_others(
    metrics_server: tuple[str, _MetricsState],
) -> None:
    url, _ = metrics_server
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}/metrics"
        recorder = TimelineRecorder({"orders": url, "payments": dead}, interval=1.0)
        recorder.scrape_once()
        recorder.scrape_once()
        recorder.stop()
    assert len(recorder.timeline.snapshots("orders")) == 2
    assert recorder.timeline.snapshots("payments") == []
    failures = recorder.timeline.failures
    assert [f.service for f in failures] == ["payments", "payments"]
    assert "ConnectError" in failures[0].error


def test_recorder_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        TimelineRecorder({}, interval=0)


def test_metrics_urls_builds_one_url_per_service() -> None:
    class FakeSystem:
        services = {"orders": object(), "users": object()}

        def url(self, service: str) -> str:
            return {"orders": "http://127.0.0.1:1/", "users": "http://127.0.0.1:2"}[service]

    assert metrics_urls(FakeSystem()) == {
        "orders": "http://127.0.0.1:1/metrics",
        "users": "http://127.0.0.1:2/metrics",
    }


def test_breakers_are_read_through_each_edge_convention_whatever_the_metric_is_called() -> None:
    snapshot = parse_metrics(
        '# TYPE cb_status gauge\ncb_status{upstream="payments"} 20\n', scraped_at=1.0
    )
    convention = BreakerConvention(
        metric="cb_status",
        labels={"upstream": "{target}"},
        states={"closed": 10, "open": 20},
    )
    timeline = Timeline({"orders": [snapshot]}, breakers={Edge("orders", "payments"): convention})
    assert timeline.breaker_states() == {"orders->payments": [Point(1.0, 20.0)]}
    assert timeline.latest_breaker_states() == {"orders->payments": "open"}
    assert timeline.breaker_was("orders->payments", "open")
    assert Timeline({"orders": [snapshot]}).breaker_states() == {}  # no convention: none


def test_a_labelled_counter_declared_without_samples_counts_as_exposed() -> None:
    snapshot = parse_metrics(
        "# HELP jobs_failed_total failed jobs\n# TYPE jobs_failed_total counter\n", scraped_at=1.0
    )
    timeline = Timeline({"worker": [snapshot]})
    assert timeline.exposed("worker", "jobs_failed_total")
    assert not timeline.exposed("worker", "jobs_failed_totl")  # a typo is not


def test_saved_timelines_keep_the_conventions_and_the_asked_names_whatever_they_are() -> None:
    from harness.observe.timeline import breakers_of, kept_metric_names
    from harness.topology import parse_topology

    topology = parse_topology(
        {
            "conventions": {
                "breaker": {"metric": "cb_status", "transitions": "cb_moves_total"},
            },
            "services": {"web": {"app": "m:app"}, "api": {"app": "m:app"}},
            "edges": [{"from": "web", "to": "api"}],
        }
    )
    assert set(breakers_of(topology)) == {Edge("web", "api")}
    assert kept_metric_names(topology, ["jobs_total"]) == [
        "cb_moves_total",
        "cb_status",
        "jobs_total",
    ]
    assert kept_metric_names(None, ["jobs_total"]) == ["jobs_total"]
