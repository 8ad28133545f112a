"""Run several experiments against one topology: the CLI's and the pipeline's loop.

One at a time, experiments needing the same service settings (`env`) share one system,
started from the topology with those settings added and torn down after the group. With
`parallel` > 1 experiments run at once, each worker process (`harness.parallel`) with a system
of its own (own ports, proxies and run directory), so experiments that mostly wait for
faults and recoveries wait together. A worker keeps its system for its next experiment
after a passing one (faults undone), as the one-at-a-time suite shares one system.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from harness.chaos.loader import check_against_topology
from harness.chaos.model import Experiment
from harness.chaos.result import ExperimentResult
from harness.chaos.runner import run_experiment
from harness.chaos.systems import env_key, group_by_env, start_for
from harness.parallel import run_each
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
    parallel: int = 1,
) -> list[ExperimentResult]:
    """Run `experiments`; results in run order (with `parallel` > 1: in the order given).

    One at a time (`parallel` 1, the default), experiments are grouped by `env`, one system
    per group. With `parallel` > 1, up to that many run at once, each worker on its own system
    (kept for its next experiment after a pass, see `_Job.run`);
    `console` then gets one line as each starts and `on_result` is called as each ends (no
    live view), and a system that does not start makes that experiment `aborted`.

    Raises `ExperimentError` before starting anything when an experiment names an edge or
    service the topology lacks, or an assertion its conventions cannot judge; ValueError for
    `parallel` > 1 on a backend whose systems are not independent (attach).

    Args:
        seed: one seed for every experiment (default: each experiment's own).
        journal_dir: where journals and HTML reports go (default: none written).
        console / live: the live view or plain lines (see `run_experiment`).
        backend: runtime backend, "process" (default) or "attach".
        fail_fast: stop each experiment at its first failed assertion.
        on_result: called with each result as soon as its experiment ends.
        parallel: experiments at once, each worker on its own system (default 1).
    """
    from harness.runtime.backends import backend_named

    for experiment in experiments:  # every problem found before anything is started
        check_against_topology(experiment, topology)
    if parallel > 1 and not backend_named(backend).independent:
        raise ValueError(
            f"parallel experiments need a system each; the {backend} backend shares one "
            "(run them one at a time)"
        )
    if parallel > 1:
        job = _Job(
            topology=topology,
            seed=seed,
            journal_dir=journal_dir,
            backend=backend,
            fail_fast=fail_fast,
        )
        count = iter(range(1, len(experiments) + 1))

        def started(experiment: Experiment) -> None:
            number = next(count)
            if console is not None:
                console.print(
                    f"  start {number}/{len(experiments)} {experiment.title}",
                    style="dim",
                    highlight=False,
                )

        def ended(_experiment: Experiment, result: ExperimentResult) -> None:
            # The workers write journals; the reports are drawn here, as each ends, so that
            # matplotlib (about a CPU-second to import) loads in one process, not in each.
            if journal_dir is not None and result.journal_path is not None:
                from harness.chaos.report import write_html_report

                result.report_path = write_html_report(result, Path(journal_dir))
            if on_result is not None:
                on_result(result)

        batch = run_each(
            job.run,
            experiments,
            parallel=parallel,
            on_start=started,
            on_result=ended,
            longest=lambda experiment: experiment.method.effective_duration,
        )
        return batch.results
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


@dataclass(frozen=True, slots=True)
class _Job:
    """What every experiment of a parallel suite runs with; picklable for worker processes."""

    topology: Topology
    seed: int | None
    journal_dir: Path | None
    backend: str
    fail_fast: bool

    def run(self, experiment: Experiment) -> ExperimentResult:
        """Run `experiment` on this worker's kept system (`harness.runtime.kept`): the one the
        worker's last experiment passed on, if it was started with the same settings, its
        faults undone; else a fresh one. A system that does not start gives an `aborted`
        result rather than an exception."""
        from harness.runtime import HarnessRuntimeError
        from harness.runtime.kept import kept_system

        kept = kept_system()
        key = (self.topology.path, self.backend, env_key(experiment))
        try:
            system = kept.get(
                key, lambda: start_for(self.topology, dict(experiment.env), backend=self.backend)
            )
        except HarnessRuntimeError as exc:
            kept.close()
            return _not_started(experiment, self, exc)
        try:
            result = run_experiment(
                experiment,
                system,
                seed=self.seed,
                journal_dir=self.journal_dir,
                live=False,
                fail_fast=self.fail_fast,
                topology=self.topology.path,
                backend=self.backend,
                html_report=False,  # drawn in the parent (see run_suite)
            )
        except BaseException:
            kept.close()
            raise
        kept.ran_cell(keep=result.passed)
        return result


def _not_started(experiment: Experiment, job: _Job, error: Exception) -> ExperimentResult:
    seed = job.seed if job.seed is not None else experiment.seed
    result = ExperimentResult(
        experiment=experiment,
        seed=seed if seed is not None else random.SystemRandom().randrange(2**31),
        reason=f"the system did not start: {error}",
        topology=job.topology.path,
        backend=job.backend,
    )
    result.started_at = time.time()
    result.conclude(interrupted=False, aborted=True)
    return result
