"""Read experiment files: YAML in, a validated `Experiment` out, or one clear error.

Every problem is reported as `file: key.path: what was expected (got ...)`, one line each,
before anything touches the system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.assertions import Scope
from harness.assertions.engine import problem_path
from harness.assertions.kinds.breaker import missing_convention
from harness.chaos.model import ASSERTION_TAGS, BreakerProbe, Experiment
from harness.faults import (
    FaultScheduleError,
    check_targets,
    describe_validation_error,
    parse_fault_schedule,
)
from harness.topology import Edge, ResolvedConventions, Topology

__all__ = [
    "ExperimentError",
    "check_against_system",
    "check_against_topology",
    "load_experiment",
    "parse_experiment",
]

# Tags pydantic puts into error paths for the probe/assertion/fault unions.
_TAGS = ASSERTION_TAGS | {"http", "metric", "breaker", "invariant"}


class ExperimentError(ValueError):
    """An experiment file is unreadable or invalid; the message names file, key and problem."""


def load_experiment(path: Path | str) -> Experiment:
    """Read and validate one experiment file (YAML)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExperimentError(
            f"{path}: cannot read the experiment: {exc.strerror or exc}"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ExperimentError(f"{path}{where}: not valid YAML: {problem}") from None
    return parse_experiment(data, source=str(path))


def parse_experiment(data: object, *, source: str = "<experiment>") -> Experiment:
    """Validate experiment data (as read from YAML) into an `Experiment`."""
    if not isinstance(data, Mapping):
        raise ExperimentError(
            f"{source}: expected a mapping with title, method, ... at the top, "
            f"got {type(data).__name__}"
        )
    raw: dict[str, Any] = dict(data)
    method = raw.get("method")
    if isinstance(method, Mapping) and "faults" in method:
        # The schedule's own parser checks overlaps and words its errors the same way.
        try:
            faults = parse_fault_schedule(
                method["faults"] or [], source=source, prefix="method.faults"
            )
        except FaultScheduleError as exc:
            raise ExperimentError(str(exc)) from None
        raw["method"] = {**method, "faults": faults}
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as exc:
        message = describe_validation_error(exc, source=source, union_tags=_TAGS)
        raise ExperimentError(message) from None
    experiment._source = source
    return experiment


def check_against_system(
    experiment: Experiment,
    *,
    edges: Iterable[str],
    services: Iterable[str],
    conventions: Callable[[str], ResolvedConventions] | None = None,
) -> None:
    """Raise ExperimentError when the experiment names an edge or service the system lacks,
    or an assertion the topology's conventions cannot judge (a breaker assertion on a
    service with no breaker convention, ...). `conventions` None: not checked."""
    edges, services = sorted(edges), sorted(services)
    try:
        check_targets(
            experiment.faults,
            edges=edges,
            services=services,
            source=experiment.source,
            prefix="method.faults",
        )
    except FaultScheduleError as exc:
        raise ExperimentError(str(exc)) from None
    expected = f" (services are {', '.join(services)}; edges are {', '.join(edges) or 'none'})"
    problems = []
    for where, service in _named_services(experiment):
        if service not in services:
            problems.append(f"{where}: unknown service {service!r}{expected}")
    for where, edge in _probe_edges(experiment):
        if edge.name not in edges:
            problems.append(f"{where}: unknown edge {edge.name!r}{expected}")
        elif conventions is not None and conventions(edge.source).breaker is None:
            problems.append(f"{where}: {missing_convention(edge.source)}")
    scope = Scope(
        services=services,
        edges=edges,
        conventions=conventions,
        anchor_names=(),
        traffic=experiment.method.traffic is not None,
    )
    for index, assertion in enumerate(experiment.assertions):
        problems += [
            problem_path(f"assertions.{index}", problem) for problem in assertion.problems(scope)
        ]
    if problems:
        raise ExperimentError("\n".join(f"{experiment.source}: {problem}" for problem in problems))


def check_against_topology(experiment: Experiment, topology: Topology) -> None:
    """`check_against_system` against a topology file, before anything is started: its
    services, edges and conventions; and the files the experiment names exist."""
    check_against_system(
        experiment,
        edges=[edge.name for edge in topology.edges],
        services=topology.services,
        conventions=topology.conventions_for,
    )
    missing = _missing_files(experiment)
    if missing:
        raise ExperimentError("\n".join(f"{experiment.source}: {problem}" for problem in missing))


def _missing_files(experiment: Experiment) -> list[str]:
    """`file.py:name` references (invariants, a traffic class) whose file does not exist,
    relative to the experiment file as the run resolves them."""
    named: list[tuple[str, object]] = [
        (f"steady_state.probes.{index}", probe)
        for index, probe in enumerate(experiment.steady_state.probes)
    ]
    named += [(f"assertions.{index}", item) for index, item in enumerate(experiment.assertions)]
    references: list[tuple[str, str]] = []
    for where, item in named:
        invariant = getattr(item, "invariant", None)
        if isinstance(invariant, str):
            references.append((f"{where}.invariant", invariant))
    traffic_class = getattr(experiment.method.traffic, "class_", None)
    if isinstance(traffic_class, str):
        references.append(("method.traffic.class", traffic_class))
    base = Path(experiment.source).parent if experiment.source else Path.cwd()
    problems = []
    for where, reference in references:
        location = reference.rpartition(":")[0]
        if location.endswith(".py") and not (base / location).is_file():
            problems.append(f"{where}: no such file {base / location} (from {reference!r})")
    return problems


def _named_services(experiment: Experiment) -> list[tuple[str, str]]:
    found = []
    for index, probe in enumerate(experiment.steady_state.probes):
        for key in ("http", "service"):
            value = getattr(probe, key, None)
            service = getattr(value, "service", value if key == "service" else None)
            if isinstance(service, str):
                found.append((f"steady_state.probes.{index}.{key}", service))
    traffic = experiment.method.traffic
    if traffic is not None:
        found += traffic.services()
    return found


def _probe_edges(experiment: Experiment) -> list[tuple[str, Edge]]:
    return [
        (f"steady_state.probes.{index}.breaker", probe.breaker)
        for index, probe in enumerate(experiment.steady_state.probes)
        if isinstance(probe, BreakerProbe)
    ]
