"""Run several experiments: one system per group of experiments that need the same settings.

`harness chaos run` and the `harness run` pipeline both go through `run_suite`, so the way
experiments are grouped, started and reported is the same from either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from harness.chaos.model import Experiment
from harness.chaos.result import ExperimentResult
from harness.chaos.runner import run_experiment
from harness.chaos.systems import group_by_env, start_for
from harness.topology import Topology

__all__ = ["expand_paths", "run_suite"]


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Experiment files: each file as given, each directory's *.yaml/*.yml in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


def run_suite(
    experiments: Sequence[Experiment],
    topology: Topology,
    *,
    seed: int | None = None,
    journal_dir: Path = Path("runs/chaos"),
    backend: str = "process",
    console: Console | None = None,
    live: bool | None = None,
    on_result: Callable[[ExperimentResult], None] | None = None,
) -> list[ExperimentResult]:
    """Run `experiments` against `topology`, in file order within each settings group.

    Keyword-only: `seed` (None: each experiment's own), `journal_dir` (journals and HTML
    reports), `backend` ("process" or "attach"), `console` (live view and notes; default
    stderr), `live` (None: a live view on a terminal only), `on_result` (called after each
    experiment, e.g. to print it).
    """
    console = console or Console(stderr=True)
    results: list[ExperimentResult] = []
    for group in group_by_env(experiments):
        if group[0].env:
            shown = ", ".join(f"{k}={v}" for k, v in group[0].env_text.items())
            console.print(f"starting the system with {shown}", style="dim")
        with start_for(topology, dict(group[0].env), backend=backend) as system:
            for experiment in group:
                result = run_experiment(
                    experiment,
                    system,
                    seed=seed,
                    journal_dir=journal_dir,
                    console=console,
                    live=live,
                )
                results.append(result)
                if on_result is not None:
                    on_result(result)
    return results
