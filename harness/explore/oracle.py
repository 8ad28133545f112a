"""The generic oracle: one short experiment per cell (the same `Experiment` model chaos
runs), judged by assertion kinds of the engine and nothing else:

- the declared invariants hold after the run;
- the entry answers no 5xx other than the declared `graceful` ones;
- the error ratio while the fault is in force stays within `max_error_ratio` (or a tighter
  bound declared for the fault class or the edge);
- every request succeeds again from `recovery` seconds after the heal;
- amplification on every edge (requests at the provider per request at the caller) stays
  within `max_amplification`, and, with a `header`, no single request reaches a provider
  more often than that.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from harness.chaos.model import Experiment
from harness.explore.cells import FAULT_CLASSES, Cell, ExploreInputError
from harness.topology import ExploreSettings, Topology
from harness.traffic import TrafficSpec

__all__ = ["FAULT_START", "SETTLE", "cell_experiment", "error_ratio_bound", "explore_traffic"]

FAULT_START = 1.0  # s of traffic before the fault: the steady state it is compared with
SETTLE = 2.0  # s of traffic judged after the recovery time (10 requests at 5/s)
INVARIANT_WITHIN = 20.0


def explore_traffic(settings: ExploreSettings, base_dir: Path) -> dict[str, Any]:
    """The `method.traffic` mapping for every cell, from `[explore] traffic`."""
    if settings.traffic is None:
        raise ExploreInputError(
            "[explore] traffic is not declared: give a traffic class (file.py:Class or "
            "module:Class) or a YAML file of `method.traffic`"
        )
    pacing = {"rate": settings.rate, "concurrency": settings.concurrency}
    if settings.traffic.endswith((".yaml", ".yml")):
        path = (base_dir / settings.traffic).resolve()
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ExploreInputError(f"[explore] traffic: cannot read {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ExploreInputError(f"[explore] traffic: {path} must hold a mapping")
        data = {**pacing, **data}
        if "class" in data:
            data["class"] = _rebase(str(data["class"]), path.parent)
    else:
        data = {**pacing, "class": _rebase(settings.traffic, base_dir)}
    data.pop("duration", None)  # the traffic runs for the whole method
    try:
        TypeAdapter(TrafficSpec).validate_python(data)
    except ValidationError as exc:
        raise ExploreInputError(f"[explore] traffic: {exc}") from None
    return data


def _rebase(reference: str, base_dir: Path) -> str:
    location, _, name = reference.rpartition(":")
    if location.endswith(".py"):
        return f"{(base_dir / location).resolve()}:{name}"
    return reference


def _invariant(reference: str, base_dir: Path) -> str:
    return _rebase(reference, base_dir)


def cell_experiment(
    cell: Cell, topology: Topology, *, seed: int, traffic: dict[str, Any]
) -> Experiment:
    """The experiment that judges `cell` on `topology`."""
    settings = topology.explore
    base_dir = topology.path.parent if topology.path is not None else Path.cwd()
    faults = []
    for index, fault in enumerate(cell.faults):
        kind = FAULT_CLASSES[fault.fault]
        spec: dict[str, Any] = {
            "label": f"f{index}",
            "edge": fault.edge,
            "toxic": kind.toxic,
            "start": FAULT_START,
            "duration": settings.fault_seconds,
        }
        if kind.toxic != "partition":
            spec["stream"] = kind.stream
            spec["attributes"] = kind.attributes(settings)
        faults.append(spec)
    last = f"f{len(faults) - 1}"
    assertions: list[dict[str, Any]] = []
    for reference in settings.invariants:
        assertions.append(
            {
                "name": f"invariant {reference} holds",
                "invariant": _invariant(reference, base_dir),
                "after": "end",
                "within": INVARIANT_WITHIN,
            }
        )
    bound = error_ratio_bound(cell, settings)
    ungraceful = [status for status in range(500, 512) if status not in settings.graceful]
    graceful = ", ".join(map(str, settings.graceful)) or "none"
    assertions += [
        {
            "name": f"the entry answers no 5xx but the graceful ones ({graceful})",
            "traffic": "any",
            "status": ungraceful,
            "measure": "count",
            "at_most": 0,
        },
        {
            "name": f"error ratio during the fault <= {bound:g}",
            "traffic": "any",
            "outcome": "error",
            "measure": "ratio",
            "at_most": bound,
            "after": "f0.start",
            "until": f"{last}.end",
        },
        {
            "name": f"every request succeeds {settings.recovery:g}s after the heal",
            "traffic": "any",
            "outcome": "ok",
            "measure": "ratio",
            "at_least": 1.0,
            "after": f"{last}.end + {settings.recovery:g}s",
            "until": "end",
        },
    ]
    for edge in topology.edges:
        into_caller = [e.name for e in topology.edges if e.target == edge.source]
        amplification = settings.max_amplification_by_edge.get(
            edge.name, settings.max_amplification
        )
        assertions.append(
            {
                "name": f"amplification on {edge.name} <= {amplification:g}",
                "amplification": edge.name,
                "per": into_caller or "traffic",
                "at_most": amplification,
            }
        )
        if settings.header:
            assertions.append(
                {
                    "name": f"each {settings.header} reaches {edge.target} over {edge.name} "
                    f"at most {_per_request(settings)} time(s)",
                    "requests": edge.name,
                    "header": settings.header,
                    "at_most": _per_request(settings),
                }
            )
    duration = FAULT_START + settings.fault_seconds + settings.recovery + SETTLE
    data = {
        "title": f"explore {cell.id}",
        "description": "; ".join(
            f"{fault.edge}: {FAULT_CLASSES[fault.fault].summary}" for fault in cell.faults
        ),
        "tags": ["explore"],
        "seed": seed,
        "env": dict(settings.env),
        "method": {
            "faults": faults,
            "traffic": traffic,
            "duration": duration,
            "after_faults": settings.recovery + SETTLE,
        },
        "assertions": assertions,
        "timeout": duration + INVARIANT_WITHIN + 30.0,
    }
    experiment = Experiment.model_validate(data)
    experiment._source = str(base_dir / "explore.yaml")
    return experiment


def error_ratio_bound(cell: Cell, settings: ExploreSettings) -> float:
    """The error ratio `cell` may show while its faults are in force: for each fault the
    lowest of `max_error_ratio` and the bounds declared for its class and its edge; for two
    faults at once the looser of theirs."""
    return max(
        min(
            settings.max_error_ratio,
            settings.max_error_ratio_by_fault.get(fault.fault, 1.0),
            settings.max_error_ratio_by_edge.get(fault.edge, 1.0),
        )
        for fault in cell.faults
    )


def _per_request(settings: ExploreSettings) -> int:
    return max(1, math.floor(settings.max_amplification))
