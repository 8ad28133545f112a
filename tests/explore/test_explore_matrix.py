"""The matrix from cell results: matrix.json, the terminal table, the heat map; the budget."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from harness.explore import (
    CellResult,
    ExploreOptions,
    generate_cells,
    matrix_table,
    run_cells,
    write_heatmap,
    write_matrix,
)
from harness.topology import load_topology

FIXTURE = Path(__file__).parent / "apps" / "system.toml"


def amplified(edge: str, observed: float) -> dict[str, object]:
    return {
        "name": f"amplification on {edge}",
        "kind": "amplification",
        "status": "passed",
        "edge": edge,
        "observed": observed,
        "limit": 3.0,
    }


def _results() -> list[CellResult]:
    failed = {"name": "once", "kind": "requests", "status": "failed", "summary": "3 > 1"}
    return [
        CellResult(
            cell="a->b:partition",
            edge="a->b",
            fault="partition",
            verdict="pass",
            checks=[amplified("a->b", 0.5)],
        ),
        CellResult(
            cell="a->b:http_drop",
            edge="a->b",
            fault="http_drop",
            verdict="fail",
            checks=[
                failed,
                {"name": "ok", "kind": "traffic", "status": "passed"},
                amplified("a->b", 2.5),
                amplified("c->a", 1.0),
            ],
            replay="harness explore --only 'a->b:http_drop'",
        ),
    ]


def test_matrix_json_has_the_documented_shape(tmp_path: Path) -> None:
    path = write_matrix(tmp_path, _results(), seed=5, not_run=["a->b:latency"], wall_time=3.0)
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert data["seed"] == 5
    assert data["not_run"] == ["a->b:latency"]
    cell = data["cells"][1]
    assert {"edge", "fault", "verdict", "checks", "journal", "replay"} <= set(cell)
    assert cell["verdict"] == "fail"


def test_the_table_names_the_failed_kinds_in_fault_class_order() -> None:
    console = Console(record=True, width=120)
    console.print(matrix_table(_results()))
    text = console.export_text()
    assert text.index("partition") < text.index("http_drop")  # the classes' own order
    assert "FAIL requests" in text
    assert "traffic" not in text  # a passed check is not named


def test_the_heat_map_page_links_each_cell(tmp_path: Path) -> None:
    page = write_heatmap(tmp_path, _results(), seed=5).read_text()
    assert page.count("<svg") == 2  # the heat map and the amplification per edge
    assert "3 &gt; 1" in page
    assert "--only &#39;a-&gt;b:http_drop&#39;" in page


def test_no_cell_starts_once_the_time_budget_is_spent(tmp_path: Path) -> None:
    cells = generate_cells(load_topology(FIXTURE), seed=1, max_cells=3)
    options = ExploreOptions(topology=FIXTURE, out=tmp_path, seed=1, time_budget=1e-9)
    results, not_run = run_cells(options, cells)
    assert results == []
    assert not_run == cells


def test_amplification_per_edge_is_the_highest_of_any_cell() -> None:
    from harness.explore.matrix import amplification_by_edge

    assert amplification_by_edge(_results()) == {"a->b": 2.5, "c->a": 1.0}
