"""`harness explore`: every edge x every fault class, each a short generated experiment
judged by a generic oracle (see `harness.explore.oracle`); the result is a matrix.

- `cells`: the fault classes and the seeded, budgeted list of cells (and pairs).
- `oracle`: the experiment of a cell and the assertions that judge it.
- `run`: each cell on its own system, sequentially or in parallel worker processes.
- `matrix`: `matrix.json`, the terminal table, the HTML heat map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.explore.cells import (
        FAULT_CLASSES,
        Cell,
        CellFault,
        ExploreInputError,
        generate_cells,
        parse_only,
    )
    from harness.explore.matrix import CellResult, matrix_table, write_heatmap, write_matrix
    from harness.explore.oracle import cell_experiment, explore_traffic
    from harness.explore.run import ExploreOptions, replay_command, run_cell, run_cells

__all__ = [
    "FAULT_CLASSES",
    "Cell",
    "CellFault",
    "CellResult",
    "ExploreInputError",
    "ExploreOptions",
    "cell_experiment",
    "explore_traffic",
    "generate_cells",
    "matrix_table",
    "parse_only",
    "replay_command",
    "run_cell",
    "run_cells",
    "write_heatmap",
    "write_matrix",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.explore.cells": (
            "FAULT_CLASSES",
            "Cell",
            "CellFault",
            "ExploreInputError",
            "generate_cells",
            "parse_only",
        ),
        "harness.explore.matrix": ("CellResult", "matrix_table", "write_heatmap", "write_matrix"),
        "harness.explore.oracle": ("cell_experiment", "explore_traffic"),
        "harness.explore.run": ("ExploreOptions", "replay_command", "run_cell", "run_cells"),
    },
)
