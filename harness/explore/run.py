"""Run the cells: each on its own freshly started system (so cells cannot disturb each
other), one after another or `parallel` at once in worker processes (`harness.parallel`),
within a budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from harness.explore.cells import Cell, ExploreInputError, check_settings
from harness.explore.matrix import CellResult
from harness.explore.oracle import cell_experiment, explore_traffic
from harness.parallel import run_each
from harness.runtime.kept import kept_system
from harness.topology import Topology, load_topology

__all__ = ["ExploreOptions", "replay_command", "run_cell", "run_cells"]


@dataclass(frozen=True, slots=True)
class ExploreOptions:
    topology: Path
    out: Path
    seed: int
    parallel: int = 1
    time_budget: float | None = None
    backend: str = "process"
    fresh: bool = False  # a fresh system for every cell (default: kept after a passing cell)
    extra_args: tuple[str, ...] = field(default=())


def replay_command(options: ExploreOptions, cell: Cell) -> str:
    """The command that runs `cell` again, exactly as it ran (same seed, same topology)."""
    return (
        f"harness explore -t {options.topology.resolve()} --out {options.out.resolve()} "
        f"--seed {options.seed} --only '{cell.id}'"
    )


def run_cell(options: ExploreOptions, cell: Cell) -> CellResult:
    """Run the cell's experiment on this process's kept system (or a fresh one, see
    `harness.runtime.kept`); never raises."""
    from harness.chaos.journal import write_journal
    from harness.chaos.report import write_html_report
    from harness.chaos.runner import run_experiment
    from harness.chaos.systems import env_key, start_for

    started = time.time()
    journal_dir = options.out / "cells" / cell.id.replace(">", "").replace(":", "_")
    kept = kept_system()
    after_cells = 0
    try:
        topology = load_topology(options.topology)
        base_dir = options.topology.resolve().parent
        traffic = explore_traffic(topology.explore, base_dir)
        experiment = cell_experiment(cell, topology, seed=cell.seed(options.seed), traffic=traffic)
        key = (options.topology, options.backend, env_key(experiment))
        system = kept.get(key, lambda: start_for(topology, experiment.env, backend=options.backend))
        after_cells = kept.cells
        result = run_experiment(experiment, system, live=False)
        kept.ran_cell(keep=result.status == "passed" and not options.fresh)
        result.journal_path = write_journal(result, journal_dir)
        if result.status != "passed":  # the page a person opens; a passing cell's is not
            result.report_path = write_html_report(result, journal_dir)
    except Exception as exc:  # a system that did not start is this cell's failure
        kept.close()
        return CellResult(
            cell=cell.id,
            edge=cell.edge,
            fault=cell.fault,
            verdict="fail",
            checks=[{"name": "run", "status": "failed", "summary": f"{type(exc).__name__}: {exc}"}],
            journal=None,
            replay=replay_command(options, cell),
            duration=time.time() - started,
            after_cells=after_cells,
        )
    checks: list[dict[str, Any]] = [
        {
            "name": c.name,
            "kind": c.kind,
            "status": c.status,
            "summary": c.summary,
            "observed": c.observed,
            "limit": c.limit,
            **({"edge": str(c.evidence["edge"])} if "edge" in c.evidence else {}),
        }
        for c in result.assertions
    ]
    if result.reason:
        checks.append({"name": "run", "status": "failed", "summary": result.reason})
    passed = result.status == "passed"
    return CellResult(
        cell=cell.id,
        edge=cell.edge,
        fault=cell.fault,
        verdict="pass" if passed else "fail",
        checks=checks,
        journal=str(result.journal_path) if result.journal_path else None,
        report=str(result.report_path) if result.report_path else None,
        replay=replay_command(options, cell),
        duration=time.time() - started,
        after_cells=after_cells,
    )


def _check_topology(options: ExploreOptions) -> Topology:
    topology = load_topology(options.topology)
    check_settings(topology)
    explore_traffic(topology.explore, options.topology.resolve().parent)  # fail before starting
    entry = topology.explore.entry
    if entry is not None and entry not in topology.services:
        known = ", ".join(sorted(topology.services))
        raise ExploreInputError(f"[explore] entry: unknown service {entry!r}; expected {known}")
    return topology


def run_cells(
    options: ExploreOptions,
    cells: Sequence[Cell],
    *,
    on_result: Callable[[CellResult], None] | None = None,
) -> tuple[list[CellResult], list[Cell]]:
    """Run `cells` (`parallel` at once); returns the results in the cells' order and the
    cells the time budget left unrun."""
    _check_topology(options)
    try:
        batch = run_each(
            partial(run_cell, options),
            cells,
            parallel=options.parallel,
            time_budget=options.time_budget or None,
            on_result=None if on_result is None else lambda _cell, result: on_result(result),
        )
    finally:
        # In-process cells (parallel 1) keep their system here; workers stop theirs on exit.
        kept_system().close()
    return batch.results, batch.not_run
