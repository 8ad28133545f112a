"""The cells of the matrix: every edge x fault class, seeded, within the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.explore import FAULT_CLASSES, ExploreInputError, generate_cells, parse_only
from harness.explore.cells import check_settings
from harness.topology import Topology, TopologyError, load_topology, parse_topology

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "target-system" / "system.toml"
FIXTURE = Path(__file__).parent / "apps" / "system.toml"


def test_every_edge_meets_every_fault_class_once() -> None:
    topology = load_topology(SHOP)
    cells = generate_cells(topology, seed=1)
    assert len(cells) == len(topology.edges) * len(FAULT_CLASSES) == 72
    assert len({cell.id for cell in cells}) == 72
    assert {cell.edge for cell in cells} == {edge.name for edge in topology.edges}
    assert {cell.fault for cell in cells} == set(FAULT_CLASSES)


def test_the_order_is_the_seeds() -> None:
    topology = load_topology(SHOP)
    first = [c.id for c in generate_cells(topology, seed=7)]
    assert first == [c.id for c in generate_cells(topology, seed=7)]
    assert first != [c.id for c in generate_cells(topology, seed=8)]


def test_max_cells_takes_the_first_of_the_seeded_order() -> None:
    topology = load_topology(SHOP)
    every = generate_cells(topology, seed=3)
    assert generate_cells(topology, seed=3, max_cells=5) == every[:5]


def test_pairs_put_two_faults_on_two_distinct_edges() -> None:
    topology = load_topology(SHOP)
    cells = generate_cells(topology, seed=4, pairs=6)
    pairs = [cell for cell in cells if len(cell.faults) == 2]
    assert len(pairs) == 6
    for cell in pairs:
        assert cell.faults[0].edge != cell.faults[1].edge


def test_a_cells_seed_does_not_depend_on_the_others() -> None:
    topology = load_topology(SHOP)
    cell = generate_cells(topology, seed=5)[10]
    again = parse_only(cell.id, [edge.name for edge in topology.edges])
    assert again == cell
    assert again.seed(5) == cell.seed(5) != cell.seed(6)


def test_only_takes_a_cell_id_back_and_names_what_is_wrong() -> None:
    edges = ["front->store"]
    assert parse_only("front -> store:http_drop", edges).id == "front->store:http_drop"
    with pytest.raises(ExploreInputError, match="unknown edge 'a->b'"):
        parse_only("a->b:partition", edges)
    with pytest.raises(ExploreInputError, match="unknown fault class 'flood'"):
        parse_only("front->store:flood", edges)
    with pytest.raises(ExploreInputError, match="expected EDGE:FAULT"):
        parse_only("front->store", edges)


def test_the_explore_table_is_validated() -> None:
    base = {"services": {"a": {"app": "a:app"}}}
    with pytest.raises(TopologyError, match="graceful"):
        parse_topology({**base, "explore": {"graceful": [404]}})
    with pytest.raises(TopologyError, match="invariants"):
        parse_topology({**base, "explore": {"invariants": ["no-function"]}})
    settings = load_topology(FIXTURE).explore
    assert settings.graceful == (503,)
    assert settings.max_amplification == 1.5


def test_error_ratio_bounds_name_fault_classes_and_edges_that_exist() -> None:
    topology = load_topology(FIXTURE)
    settings = topology.explore

    def with_bounds(**bounds: dict[str, float]) -> Topology:
        return topology.model_copy(update={"explore": settings.model_copy(update=bounds)})

    check_settings(with_bounds(max_error_ratio_by_fault={"transient_503": 0.0}))
    with pytest.raises(ExploreInputError, match="unknown fault class 'flood'"):
        check_settings(with_bounds(max_error_ratio_by_fault={"flood": 0.0}))
    with pytest.raises(ExploreInputError, match="unknown edge 'a->b'"):
        check_settings(with_bounds(max_error_ratio_by_edge={"a->b": 0.0}))
    with pytest.raises(ExploreInputError, match="max_amplification_by_edge: unknown edge"):
        check_settings(with_bounds(max_amplification_by_edge={"a->b": 4.0}))
    with pytest.raises(TopologyError, match="max_error_ratio_by_fault"):
        parse_topology(
            {
                "services": {"a": {"app": "a:app"}},
                "explore": {"max_error_ratio_by_fault": {"partition": 1.5}},
            }
        )
    edge_named = parse_topology(
        {
            "services": {"a": {"app": "a:app"}},
            "explore": {"max_error_ratio_by_edge": {"a  ->  b": 0.1}},
        }
    )
    assert edge_named.explore.max_error_ratio_by_edge == {"a->b": 0.1}
