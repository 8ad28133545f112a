"""The metrics reader: parsing, label matching and summing over series."""

from __future__ import annotations

import httpx
import pytest

from harness.observe.metrics import MetricsError, merged, parse_metrics, scrape

EXPOSITION = """\
# HELP shop_breaker_state Breaker state per dependency
# TYPE shop_breaker_state gauge
shop_breaker_state{service="orders",dependency="payments"} 1.0
shop_breaker_state{service="orders",dependency="users"} 0.0
# HELP shop_outbound_retries_total Retries
# TYPE shop_outbound_retries_total counter
shop_outbound_retries_total{service="orders",dependency="payments"} 4.0
shop_outbound_retries_total{service="gateway",dependency="payments"} 3.0
"""


def test_value_selects_one_series_by_labels() -> None:
    snapshot = parse_metrics(EXPOSITION)
    assert snapshot.value("shop_breaker_state", service="orders", dependency="payments") == 1.0
    assert snapshot.value("shop_breaker_state", dependency="users") == 0.0


def test_value_sums_series_matching_a_partial_label_set() -> None:
    snapshot = parse_metrics(EXPOSITION)
    assert snapshot.value("shop_outbound_retries_total", dependency="payments") == 7.0


def test_value_is_none_when_nothing_matches() -> None:
    snapshot = parse_metrics(EXPOSITION)
    assert snapshot.value("shop_breaker_state", dependency="inventory") is None
    assert snapshot.value("no_such_metric") is None


def test_invalid_text_names_its_source() -> None:
    with pytest.raises(MetricsError, match="orders/metrics"):
        parse_metrics("this is {not metrics", source="orders/metrics")


def test_merged_keeps_samples_of_every_snapshot() -> None:
    a = parse_metrics('x_total{service="a"} 1\n')
    b = parse_metrics('x_total{service="b"} 2\n')
    assert merged([a, b]).value("x_total") == 3.0


def test_scrape_reports_http_errors_with_the_url() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="down"))
    with httpx.Client(transport=transport) as client, pytest.raises(MetricsError, match="503"):
        scrape("http://svc/metrics", client=client)


def test_scrape_parses_a_served_exposition() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text=EXPOSITION))
    with httpx.Client(transport=transport) as client:
        snapshot = scrape("http://svc/metrics", client=client)
    assert snapshot.source == "http://svc/metrics"
    assert "shop_breaker_state" in snapshot.names()
