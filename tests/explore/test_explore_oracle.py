"""The oracle: the experiment of a cell, and the `requests` and `amplification` kinds
judged on synthetic proxy counts (the real proxy is exercised in test_explore_run.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import http_clients
from harness.assertions import Anchors, EvaluationContext, TrafficView, parse_assertion
from harness.assertions.probing import ProbeContext
from harness.chaos.model import Experiment
from harness.explore import Cell, CellFault, cell_experiment, explore_traffic
from harness.explore.oracle import error_ratio_bound
from harness.faults import RequestCount, RequestCounts
from harness.topology import load_topology
from harness.traffic import TrafficRecord

FIXTURE = Path(__file__).parent / "apps" / "system.toml"


@dataclass
class CountingFaults:
    """A fault proxy's request counts, per edge: rows of (method, path, header value)."""

    rows: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    counting: set[str] = field(default_factory=set)

    def count_requests(self, edge: str) -> None:
        self.counting.add(edge)

    def request_counts(self, edge: str, *, header: str | None = None) -> RequestCounts:
        grouped: dict[tuple[str, str, str | None], int] = {}
        for row in self.rows.get(edge, []):
            grouped[row] = grouped.get(row, 0) + 1
        counts = tuple(RequestCount(m, p, v, n) for (m, p, v), n in grouped.items())
        return RequestCounts(header or "", len(self.rows.get(edge, [])), counts)


@dataclass
class CountingSystem:
    faults: CountingFaults


def _context(faults: CountingFaults, anchors: Anchors, now: float, **kw: Any) -> EvaluationContext:
    probes = ProbeContext(
        system=CountingSystem(faults), client=http_clients.client(), base_dir=Path()
    )
    return EvaluationContext(anchors=anchors, now=now, probes=probes, grace=0.5, **kw)


def _send(faults: CountingFaults, edge: str, *values: str | None) -> None:
    faults.rows.setdefault(edge, []).extend(("POST", "/charges", v) for v in values)


def test_requests_fails_when_one_request_reaches_the_provider_twice() -> None:
    faults = CountingFaults()
    _send(faults, "front->store", "old", "old", "old")  # before the window: not judged
    anchors = Anchors({"start": 100.0})
    check = parse_assertion(
        {"name": "once", "requests": "front->store", "header": "X-Request-ID", "at_most": 1}
    )
    assert check.evaluate(_context(faults, anchors, 100.1)).status == "pending"
    assert faults.counting == {"front->store"}
    _send(faults, "front->store", "a", "b", "b", None)
    anchors.set("end", 101.0)
    result = check.evaluate(_context(faults, anchors, 102.0))
    assert result.status == "failed"
    assert result.observed == 2
    assert result.evidence["over_limit"] == 1
    assert result.evidence["without_header"] == 1
    assert result.evidence["most_repeated"][0] == {
        "value": "b",
        "method": "POST",
        "path": "/charges",
        "count": 2,
    }


def test_requests_passes_when_each_request_arrives_once_and_filters_by_method() -> None:
    faults = CountingFaults()
    anchors = Anchors({"start": 100.0})
    check = parse_assertion(
        {"name": "once", "requests": "front->store", "header": "X-Request-ID", "method": "GET"}
    )
    check.evaluate(_context(faults, anchors, 100.1))
    _send(faults, "front->store", "a", "a")  # POSTs: not selected
    faults.rows["front->store"].append(("GET", "/charges", "a"))
    anchors.set("end", 101.0)
    result = check.evaluate(_context(faults, anchors, 102.0))
    assert result.status == "passed", result.summary


def _records(count: int, at: float) -> list[TrafficRecord]:
    return [TrafficRecord(name="buy", started_at=at, latency=0.01, status=201)] * count


def test_amplification_per_traffic_request() -> None:
    faults = CountingFaults()
    anchors = Anchors({"start": 100.0})
    check = parse_assertion({"name": "amp", "amplification": "front->store", "at_most": 1.5})
    check.evaluate(_context(faults, anchors, 100.1))
    _send(faults, "front->store", *["x"] * 8)
    anchors.set("end", 101.0)
    traffic = TrafficView(records=_records(4, 100.5))
    result = check.evaluate(_context(faults, anchors, 102.0, traffic=traffic))
    assert result.status == "failed"
    assert result.observed == 2.0
    assert result.evidence["at_caller"] == 4


def test_amplification_per_edge_into_the_caller_waits_for_the_window() -> None:
    faults = CountingFaults()
    anchors = Anchors({"start": 100.0})
    check = parse_assertion({"name": "amp", "amplification": "b->c", "per": "a->b", "at_most": 2})
    check.evaluate(_context(faults, anchors, 100.1))
    _send(faults, "a->b", "1", "2")
    _send(faults, "b->c", "1", "1", "2")
    anchors.set("end", 101.0)
    assert check.evaluate(_context(faults, anchors, 101.2)).status == "pending"  # grace
    result = check.evaluate(_context(faults, anchors, 102.0))
    assert result.status == "passed"
    assert result.observed == 1.5


def test_counts_without_a_fault_proxy_fail_saying_why() -> None:
    anchors = Anchors({"start": 100.0, "end": 101.0})
    check = parse_assertion({"name": "amp", "amplification": "a->b", "at_most": 2})
    result = check.evaluate(EvaluationContext(anchors=anchors, now=102.0))
    assert result.status == "failed"
    assert "fault proxy" in result.summary


def test_a_cells_experiment_is_judged_by_the_generic_oracle() -> None:
    topology = load_topology(FIXTURE)
    traffic = explore_traffic(topology.explore, FIXTURE.parent)
    cell = Cell((CellFault("front->store", "transient_503"),))
    experiment = cell_experiment(cell, topology, seed=9, traffic=traffic)
    assert isinstance(experiment, Experiment)
    (fault,) = experiment.method.faults
    assert fault.toxic == "http_error"
    assert fault.attributes == {"status": 503, "first": 2}
    kinds = [a.kind_name() for a in experiment.assertions]
    assert kinds == ["traffic", "traffic", "traffic", "amplification", "requests"]
    no_5xx = experiment.assertions[0]
    assert 503 not in no_5xx.status
    assert 500 in no_5xx.status
    recovery = experiment.assertions[2]
    assert str(recovery.after) == "f0.end + 2s"
    assert experiment.seed == 9


def test_requests_counts_each_call_of_one_request_apart() -> None:
    faults = CountingFaults()
    anchors = Anchors({"start": 100.0})
    check = parse_assertion({"name": "once", "requests": "a->b", "header": "X-Request-ID"})
    check.evaluate(_context(faults, anchors, 100.1))
    faults.rows["a->b"] = [
        ("POST", "/reservations", "r1"),
        ("POST", "/reservations/7/release", "r1"),
    ]
    anchors.set("end", 101.0)
    result = check.evaluate(_context(faults, anchors, 102.0))
    assert result.status == "passed", result.summary


def test_a_cells_error_ratio_bound_is_the_tightest_declared_for_each_fault() -> None:
    settings = load_topology(FIXTURE).explore.model_copy(
        update={
            "max_error_ratio": 0.9,
            "max_error_ratio_by_fault": {"transient_503": 0.1, "latency": 0.95},
            "max_error_ratio_by_edge": {"a->b": 0.0},
        }
    )
    one = Cell((CellFault("front->store", "transient_503"),))
    assert error_ratio_bound(one, settings) == 0.1
    assert error_ratio_bound(Cell((CellFault("front->store", "latency"),)), settings) == 0.9
    assert error_ratio_bound(Cell((CellFault("a->b", "latency"),)), settings) == 0.0
    # two faults at once: the looser of their bounds
    two = Cell((CellFault("a->b", "partition"), CellFault("front->store", "transient_503")))
    assert error_ratio_bound(two, settings) == 0.1
    topology = load_topology(FIXTURE)
    topology = topology.model_copy(update={"explore": settings})
    traffic = explore_traffic(settings, FIXTURE.parent)
    experiment = cell_experiment(one, topology, seed=1, traffic=traffic)
    ratio = experiment.assertions[1]
    assert ratio.name == "error ratio during the fault <= 0.1"


def test_an_edge_with_fan_out_gets_its_declared_amplification_bound() -> None:
    topology = load_topology(FIXTURE)
    settings = topology.explore.model_copy(
        update={"max_amplification_by_edge": {"front->store": 4.5}}
    )
    topology = topology.model_copy(update={"explore": settings})
    traffic = explore_traffic(settings, FIXTURE.parent)
    cell = Cell((CellFault("front->store", "partition"),))
    experiment = cell_experiment(cell, topology, seed=1, traffic=traffic)
    amplification, requests = experiment.assertions[-2:]
    assert amplification.at_most == 4.5
    assert requests.at_most == 1  # per call: still floor(max_amplification)
