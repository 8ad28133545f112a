"""Run several experiments against one topology: the CLI's and the pipeline's loop.

Experiments needing the same service settings (`env`) share one system, started from the
topology with those settings added and torn down after the group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rich.console import Console

from harness.chaos.loader import check_against_topology
from harness.chaos.model import Experiment
from harness.chaos.result import ExperimentResult
from harness.chaos.runner import run_experiment
from harness.chaos.systems import group_by_env, start_for
from harness.topology import Topology

__all__ = ["expand_paths", "run_suite"]

EXPERIMENT_SUFFIXES = (".yaml", ".yml")


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories become their `*.yaml`/`*.yml` files, sorted by name."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in EXPERIMENT_SUFFIXES)
        else:
            files.append(path)
    return files


def run_suite(
    experiments: Sequence[Experiment],
    topology: Topology,
    *,
    seed: int | None = None,
    journal_dir: Path | None = None,
    console: Console | None = None,
    live: bool | None = None,
    backend: str = "process",
    fail_fast: bool = False,
    on_result: Callable[[ExperimentResult], None] | None = None,
) -> list[ExperimentResult]:
    """Run `experiments` (grouped by `env`, one system per group); results in run order.

    Raises `ExperimentError` before starting anything when an experiment names an edge or
    service the topology lacks, or an assertion its conventions cannot judge.

    Args:
        seed: one seed for every experiment (default: each experiment's own).
        journal_dir: where journals and HTML reports go (default: none written).
        console / live: the live view or plain lines (see `run_experiment`).
        backend: runtime backend, "process" (default) or "attach".
        fail_fast: stop each experiment at its first failed assertion.
        on_result: called with each result as soon as its experiment ends.
    """
    for experiment in experiments:  # every problem found before anything is started
        check_against_topology(experiment, topology)
    results: list[ExperimentResult] = []
    for group in group_by_env(experiments):
        settings = dict(group[0].env)
        if settings and console is not None:
            shown = ", ".join(f"{k}={v}" for k, v in group[0].env_text.items())
            console.print(f"starting the system with {shown}", style="dim", highlight=False)
        with start_for(topology, settings, backend=backend) as system:
            for experiment in group:
                result = run_experiment(
                    experiment,
                    system,
                    seed=seed,
                    journal_dir=journal_dir,
                    console=console,
                    live=live,
                    fail_fast=fail_fast,
                    topology=topology.path,
                    backend=backend,
                )
                results.append(result)
                if on_result is not None:
                    on_result(result)
    return results
