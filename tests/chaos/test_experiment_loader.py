"""Experiment files: what parses, and errors that name file, key path and expectation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.chaos import ExperimentError, load_experiment, parse_experiment
from harness.chaos.loader import check_against_system
from harness.chaos.model import (
    BreakerAssertion,
    InvariantAssertion,
    MetricAssertion,
    TrafficAssertion,
)
from harness.faults import EdgeFault
from harness.topology import BreakerConvention, ResolvedConventions

GOOD = """
title: payments slower than the caller's timeout
seed: 7
env: {BREAKER_OPEN_SECONDS: 2, BREAKER_ENABLED: true}
steady_state:
  probes:
    - name: gateway is up
      http: {service: gateway, path: /health}
    - name: breaker closed
      breaker: orders->payments
      within: 5s
method:
  duration: 20s
  faults:
    - label: slow-payments
      edge: orders -> payments
      toxic: latency
      attributes: {latency: 2000}
      start: 2s
      duration: 8s
  traffic: {class: "shop_traffic.py:ShopTraffic", rate: 4, concurrency: 2}
assertions:
  - name: breaker opens within 5 s of the fault
    breaker: orders->payments
    state: open
    after: slow-payments.start
    within: 5s
  - name: breaker half-opens then closes after heal
    breaker: orders->payments
    transitions: [open->half_open, half_open->closed]
    after: slow-payments.end
    within: 10s
  - name: no saga in flight 10 s after heal
    metric: shop_sagas_in_flight
    service: orders
    equals: 0
    after: slow-payments.end
    within: 10s
  - name: orders fail fast
    traffic: place_order
    measure: p95
    at_most: 500ms
    after: slow-payments.start + 3s
    until: slow-payments.end
  - name: invariants
    invariant: shop_invariants.py:check_shop_invariants
    after: end
    within: 15s
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(GOOD)
    data.update(changes)
    return data


def test_a_complete_experiment_parses_into_typed_models(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, GOOD))
    assert experiment.source.endswith("exp.yaml")
    assert experiment.env_text == {"BREAKER_OPEN_SECONDS": "2", "BREAKER_ENABLED": "true"}
    (fault,) = experiment.faults
    assert isinstance(fault, EdgeFault)
    assert fault.edge == "orders->payments"
    assert experiment.method.effective_duration == 20.0
    assert experiment.method.traffic_duration is None  # runs until the method ends
    opens, transitions, sagas, fast, invariant = experiment.assertions
    assert isinstance(opens, BreakerAssertion)
    assert (opens.after.name, opens.after.edge, opens.within) == ("slow-payments", "start", 5.0)
    assert isinstance(transitions, BreakerAssertion)
    assert transitions.transitions == [("open", "half_open"), ("half_open", "closed")]
    assert isinstance(sagas, MetricAssertion)
    assert sagas.effective_mode == "eventually"
    assert isinstance(fast, TrafficAssertion)
    assert fast.at_most == 0.5
    assert str(fast.after) == "slow-payments.start + 3s"
    assert isinstance(invariant, InvariantAssertion)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "title: x\nmethod: [\n")
    with pytest.raises(
        ExperimentError, match=r"exp\.yaml \(line \d+, column \d+\): not valid YAML"
    ):
        load_experiment(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="cannot read the experiment"):
        load_experiment(tmp_path / "nope.yaml")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ExperimentError, match=r"x\.yaml: expected a mapping"):
        parse_experiment(["title"], source="x.yaml")


def test_missing_required_key_names_it() -> None:
    data = _data()
    del data["method"]
    with pytest.raises(ExperimentError, match=r"^x.yaml: method: Field required$"):
        parse_experiment(data, source="x.yaml")


def test_fault_error_names_the_path_under_method_faults() -> None:
    data = _data()
    data["method"]["faults"][0]["toxic"] = "lag"
    with pytest.raises(ExperimentError, match=r"x.yaml: method\.faults\.0: unknown toxic 'lag'"):
        parse_experiment(data, source="x.yaml")


def test_assertion_without_a_kind_key_says_which_keys_are_expected() -> None:
    data = _data(assertions=[{"name": "x", "equals": 1}])
    with pytest.raises(ExperimentError, match=r"assertions\.0: an assertion has one of the keys"):
        parse_experiment(data, source="x.yaml")


def test_comparison_must_be_exactly_one() -> None:
    data = _data(
        assertions=[{"name": "x", "metric": "m", "service": "orders", "equals": 0, "at_most": 2}]
    )
    with pytest.raises(ExperimentError, match=r"assertions\.0: expected exactly one of equals"):
        parse_experiment(data, source="x.yaml")


def test_bad_anchor_names_the_key_and_the_expected_forms() -> None:
    data = _data()
    data["assertions"][0]["after"] = "slow payments"
    with pytest.raises(ExperimentError, match=r"assertions\.0\.after: expected an anchor such as"):
        parse_experiment(data, source="x.yaml")


def test_anchor_naming_an_unknown_fault_label_is_rejected() -> None:
    data = _data()
    data["assertions"][0]["after"] = "slow-users.start"
    with pytest.raises(ExperimentError, match=r"unknown anchor 'slow-users'.*slow-payments"):
        parse_experiment(data, source="x.yaml")


def test_unknown_key_in_an_assertion_is_rejected_with_its_path() -> None:
    data = _data()
    data["assertions"][1]["whithin"] = "5s"
    with pytest.raises(ExperimentError, match=r"assertions\.1\.whithin: Extra inputs"):
        parse_experiment(data, source="x.yaml")


SERVICES = ["gateway", "orders", "payments", "inventory"]
EDGES = ["gateway->orders", "orders->payments", "orders->inventory"]


def shop_conventions(service: str) -> ResolvedConventions:
    """The shop's breaker convention (as its system.toml declares it)."""
    return ResolvedConventions(
        metrics="/metrics",
        breaker=BreakerConvention(
            metric="shop_breaker_state", transitions="shop_breaker_transitions_total"
        ),
    )


def test_breaker_state_must_be_a_state_the_topology_declares() -> None:
    data = _data()
    data["assertions"][0]["state"] = "ajar"
    experiment = parse_experiment(data, source="x.yaml")  # states come from the topology
    expected = (
        r"assertions\.0\.state: breaker state 'ajar' is not declared by the breaker "
        r"convention of 'orders'; expected one of closed, open, half_open"
    )
    with pytest.raises(ExperimentError, match=expected):
        check_against_system(
            experiment, edges=EDGES, services=SERVICES, conventions=shop_conventions
        )


def test_a_breaker_assertion_without_a_breaker_convention_is_refused() -> None:
    experiment = parse_experiment(_data(), source="x.yaml")
    with pytest.raises(ExperimentError) as refused:
        check_against_system(
            experiment, edges=EDGES, services=SERVICES, conventions=lambda s: ResolvedConventions()
        )
    message = str(refused.value)
    assert "assertions.0.breaker: service 'orders' has no breaker convention" in message
    assert "[conventions.breaker]" in message
    check_against_system(experiment, edges=EDGES, services=SERVICES, conventions=shop_conventions)


def test_a_metric_assertion_on_an_unknown_service_is_refused_before_the_run() -> None:
    data = _data()
    data["assertions"].append({"name": "m", "metric": "x_total", "service": "ordrs", "at_most": 5})
    experiment = parse_experiment(data, source="x.yaml")
    with pytest.raises(ExperimentError, match=r"assertions\.\d\.service: unknown service 'ordrs'"):
        check_against_system(experiment, edges=EDGES, services=SERVICES)


def test_traffic_assertions_select_any_request_name_and_accept_the_old_key() -> None:
    data = _data()
    data["assertions"] = [
        {"name": "new", "request": "GET /widgets", "outcome": "ok", "at_least": 1},
        {"name": "old", "traffic": "place_order", "outcome": "ok", "at_least": 1},
    ]
    new, old = parse_experiment(data, source="x.yaml").assertions
    assert isinstance(new, TrafficAssertion)
    assert new.request == "GET /widgets"
    assert isinstance(old, TrafficAssertion)
    assert old.request == "place_order"


def test_transition_syntax_is_checked() -> None:
    data = _data()
    data["assertions"][1]["transitions"] = ["open to closed"]
    with pytest.raises(ExperimentError, match=r"transitions\.0: expected a transition"):
        parse_experiment(data, source="x.yaml")


def test_method_duration_shorter_than_the_faults_is_rejected() -> None:
    data = _data()
    data["method"]["duration"] = "5s"
    with pytest.raises(
        ExperimentError, match=r"method: `duration` is 5s but the faults run until 10s"
    ):
        parse_experiment(data, source="x.yaml")


def test_assertion_names_must_be_unique() -> None:
    data = _data()
    data["assertions"][1]["name"] = data["assertions"][0]["name"]
    with pytest.raises(ExperimentError, match="assertion names must be unique"):
        parse_experiment(data, source="x.yaml")


def test_traffic_assertion_needs_traffic() -> None:
    data = _data()
    del data["method"]["traffic"]
    with pytest.raises(ExperimentError, match=r"assertions\.3: a traffic assertion needs"):
        parse_experiment(data, source="x.yaml")


def test_probe_without_a_kind_key_is_rejected() -> None:
    data = _data(steady_state={"probes": [{"name": "x"}]})
    with pytest.raises(ExperimentError, match=r"steady_state\.probes\.0: a probe has one of"):
        parse_experiment(data, source="x.yaml")


def test_per_requires_measure_increase() -> None:
    data = _data(
        assertions=[
            {
                "name": "retries",
                "metric": "shop_outbound_retries_total",
                "service": "gateway",
                "per": {"metric": "shop_outbound_requests_total", "service": "gateway"},
                "at_most": 2,
            }
        ]
    )
    with pytest.raises(ExperimentError, match="`per` divides increases"):
        parse_experiment(data, source="x.yaml")


def test_names_are_checked_against_the_running_system() -> None:
    experiment = parse_experiment(_data(), source="x.yaml")
    services = ["gateway", "orders", "inventory"]
    with pytest.raises(ExperimentError, match=r"method\.faults\.0\.edge: unknown edge"):
        check_against_system(experiment, edges=["gateway->orders"], services=services)
    data = _data()
    data["method"]["faults"][0]["edge"] = "gateway->orders"
    expected = r"assertions\.0\.breaker: unknown edge 'orders->payments'"
    with pytest.raises(ExperimentError, match=expected):
        check_against_system(
            parse_experiment(data, source="x.yaml"), edges=["gateway->orders"], services=services
        )


def test_every_experiment_shipped_in_chaos_parses() -> None:
    directory = Path(__file__).resolve().parents[2] / "chaos"
    files = sorted(directory.glob("*.yaml"))
    for path in files:
        load_experiment(path)
