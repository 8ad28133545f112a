"""`harness explore -t system.toml --out DIR`: the resilience matrix of a system.

Exit codes: 0 every cell passed, 1 a cell failed, 2 bad input (topology, `[explore]`,
`--only`).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.command_options import TopologyOption
from harness.console import make_console
from harness.explore.cells import FAULT_CLASSES

if TYPE_CHECKING:
    from harness.explore.matrix import CellResult

__all__ = ["explore", "register"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def explore(
    topology: TopologyOption = None,
    out: Annotated[Path, typer.Option(help="where matrix.json, matrix.html, journals go")] = Path(
        "explore-out"
    ),
    seed: Annotated[int | None, typer.Option(help="seed (cell order, traffic); printed")] = None,
    max_cells: Annotated[int | None, typer.Option(help="run at most this many cells")] = None,
    time_budget: Annotated[
        float | None, typer.Option(help="start no cell after this many seconds")
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="cells at once, each on its own system (default: \\[explore] parallel, else 1)",
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="a fresh system for every cell (default: kept after a passing cell)",
        ),
    ] = False,
    pairs: Annotated[
        int, typer.Option(min=0, help="also this many cells with two faults on two edges")
    ] = 0,
    faults: Annotated[
        str | None,
        typer.Option(help=f"comma-separated fault classes (all: {', '.join(FAULT_CLASSES)})"),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            metavar="EDGE:FAULT",
            help="run this cell only (e.g. 'a->b:partition'); repeatable",
        ),
    ] = None,
) -> None:
    """Every edge x every fault class, each a short generated experiment judged by a
    generic oracle; prints the matrix and writes DIR/matrix.json and DIR/matrix.html."""
    from harness.explore.cells import ExploreInputError, generate_cells, parse_only
    from harness.explore.matrix import failed_checks, matrix_table, write_heatmap, write_matrix
    from harness.explore.run import ExploreOptions, run_cells
    from harness.topology import TopologyError, find_topology, load_topology

    console = make_console(stderr=True)
    chosen_seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    try:
        path = find_topology(topology)
        system = load_topology(path)
        edges = [edge.name for edge in system.edges]
        if only:
            cells = list({cell.id: cell for cell in (parse_only(o, edges) for o in only)}.values())
        else:
            classes = [f.strip() for f in faults.split(",") if f.strip()] if faults else None
            cells = generate_cells(
                system, seed=chosen_seed, faults=classes, pairs=pairs, max_cells=max_cells
            )
        at_once = parallel or system.explore.parallel
        options = ExploreOptions(
            topology=path.resolve(),
            out=out,
            seed=chosen_seed,
            parallel=at_once,
            time_budget=time_budget,
            fresh=fresh,
        )
        console.print(
            f"exploring {len(cells)} cell(s) of {path} with seed {chosen_seed}, {at_once} at once",
            highlight=False,
        )
        started = time.time()

        def show(result: CellResult) -> None:
            colour = "green" if result.verdict == "pass" else "red"
            console.print(
                f"[{colour}]{result.verdict.upper()}[/] {result.cell} ({result.duration:.0f} s)",
                highlight=False,
            )
            for check in failed_checks(result):
                console.print(
                    f"  - {check.get('name')}: {check.get('summary', '')}",
                    highlight=False,
                    markup=False,
                )

        results, not_run = run_cells(options, cells, on_result=show)
    except (TopologyError, ExploreInputError, ValueError, FileNotFoundError) as exc:
        console.print(f"harness explore: {exc}", style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    wall = time.time() - started
    matrix = write_matrix(
        out, results, seed=chosen_seed, not_run=[c.id for c in not_run], wall_time=wall
    )
    page = write_heatmap(out, results, seed=chosen_seed, wall_time=wall)
    console.print(matrix_table(results), width=max(console.width, 200))
    for result in results:
        if result.verdict == "fail":
            console.print(f"[red]FAIL[/] {result.cell}", highlight=False)
            for check in result.checks:
                if check.get("status") != "passed":
                    console.print(
                        f"  - {check['name']}: {check.get('summary', '')}",
                        highlight=False,
                        markup=False,
                    )
            console.print(f"  journal: {result.journal}", highlight=False, markup=False)
            console.print(f"  replay:  {result.replay}", highlight=False, markup=False)
    failed = sum(1 for r in results if r.verdict == "fail")
    console.print(
        f"{len(results)} cell(s), {failed} failed, {len(not_run)} not run (budget) in "
        f"{wall:.0f} s; seed {chosen_seed}; {matrix}; {page}",
        highlight=False,
    )
    if failed or not results:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add `explore` to the `harness` command."""
    app.command(name="explore")(explore)
