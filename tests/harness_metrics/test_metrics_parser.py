"""The hand-written exposition parser reads what prometheus_client's parser reads (samples,
labels, values, declared names), on every service of a real shop and on the format's corners;
it is written by hand because the library's costs about 70 ms of CPU per scrape."""

from __future__ import annotations

import math
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import http_clients
from harness.observe.metrics import MetricsError, parse_metrics

CORNERS = r"""# HELP odd_total A counter whose samples carry every kind of label text
# TYPE odd_total counter
odd_total{path="/a,b",quote="say \"hi\"",slash="C:\\dir",nl="two\nlines"} 3
odd_total{empty=""} 1.5e3
odd_created{empty=""} 1.7e9
# TYPE plain gauge
plain 42
plain_spaced   7   1700000000000
# TYPE specials gauge
specials{kind="nan"} NaN
specials{kind="pinf"} +Inf
specials{kind="ninf"} -Inf
specials{kind="trailing",} 1
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 2
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 0.5
latency_seconds_count 3
# TYPE jobs counter
jobs_total 9
"""


def _library(text: str) -> tuple[dict[str, list[tuple[dict[str, str], float]]], set[str]]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    declared: set[str] = set()
    for family in text_string_to_metric_families(text):
        declared.add(family.name)
        if family.type == "counter":
            declared.add(f"{family.name}_total")
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples, declared


def _ours(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    snapshot = parse_metrics(text)
    return {
        name: [(dict(s.labels), s.value) for s in found]
        for name, found in snapshot.samples_by_name.items()
    }


def _same(ours: Any, theirs: Any) -> None:
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert len(ours[name]) == len(theirs[name]), name
        for (labels, value), (want_labels, want) in zip(ours[name], theirs[name], strict=True):
            assert labels == want_labels, name
            assert (math.isnan(value) and math.isnan(want)) or value == want, name


def test_the_formats_corners_read_as_the_library_reads_them() -> None:
    theirs, declared = _library(CORNERS)
    _same(_ours(CORNERS), theirs)
    assert all(parse_metrics(CORNERS).exposes(name) for name in declared)
    odd = parse_metrics(CORNERS).samples("odd_total", empty="")
    assert odd[0].value == 1500.0
    first = parse_metrics(CORNERS).samples("odd_total")[0].labels
    assert first == {"path": "/a,b", "quote": 'say "hi"', "slash": "C:\\dir", "nl": "two\nlines"}


@pytest.mark.parametrize(
    "line",
    ['bad{label="unterminated} 1', "no_value", 'x{="v"} 1', "x{a=b} 1", "x 1 2 3"],
)
def test_what_is_not_exposition_format_is_refused(line: str) -> None:
    with pytest.raises(MetricsError, match="not Prometheus text format"):
        parse_metrics(f"# TYPE x gauge\n{line}\n", source="svc/metrics")


@pytest.mark.integration
def test_every_shop_service_reads_the_same_through_both_parsers(system: Any) -> None:
    with http_clients.client(timeout=5.0) as client:
        client.get(f"{system.url('gateway')}/api/products")  # some traffic in the histograms
        for service in system.topology.services:
            text = client.get(f"{system.url(service)}/metrics").text
            theirs, declared = _library(text)
            _same(_ours(text), theirs)
            snapshot = parse_metrics(text)
            assert all(snapshot.exposes(name) for name in declared)
