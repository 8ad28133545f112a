"""Systems for experiments: a topology with the settings an experiment needs, and the
grouping that lets experiments with the same settings share one system."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from harness.chaos.model import Experiment
from harness.topology import EnvValue, Topology

__all__ = ["env_key", "group_by_env", "start_for"]


def env_key(experiment: Experiment) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(experiment.env_text.items()))


def group_by_env(experiments: Sequence[Experiment]) -> list[list[Experiment]]:
    """Experiments in file order, grouped so each group needs one system (same `env`)."""
    groups: dict[tuple[tuple[str, str], ...], list[Experiment]] = {}
    for experiment in experiments:
        groups.setdefault(env_key(experiment), []).append(experiment)
    return list(groups.values())


@contextmanager
def start_for(
    topology: Topology, env: Mapping[str, EnvValue], *, backend: str = "process"
) -> Iterator[Any]:
    """Start `topology` with `env` added (torn down on exit); yields the RunningSystem."""
    from harness.runtime import start_system

    with start_system(topology.with_env(env), backend=backend) as system:
        yield system
