"""The cells of the matrix: every edge x every fault class (and, on request, pairs of two
faults on two edges at once), in a seeded order, cut to a budget."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `harness explore --help` lists FAULT_CLASSES without loading topologies
    from harness.topology import ExploreSettings, Topology

__all__ = [
    "FAULT_CLASSES",
    "Cell",
    "CellFault",
    "ExploreInputError",
    "check_settings",
    "fault_attributes",
    "generate_cells",
    "parse_only",
]


class ExploreInputError(ValueError):
    """A bad `--only`, an unknown fault class or edge, or a topology explore cannot run."""


@dataclass(frozen=True, slots=True)
class FaultClass:
    """A class of fault: the toxic, its stream and attributes (given the `[explore]` table)."""

    name: str
    toxic: str
    stream: str
    attributes: Callable[[ExploreSettings], dict[str, Any]]
    summary: str


def _none(settings: ExploreSettings) -> dict[str, Any]:
    return {}


FAULT_CLASSES: dict[str, FaultClass] = {
    fault.name: fault
    for fault in (
        FaultClass(
            "latency",
            "latency",
            "downstream",
            lambda s: {"latency": s.latency},
            "each response delayed by `latency` ms (above the caller's timeout)",
        ),
        FaultClass("partition", "partition", "downstream", _none, "connections refused"),
        FaultClass("reset_peer", "reset_peer", "downstream", _none, "responses cut by a TCP reset"),
        FaultClass(
            "timeout",
            "timeout",
            "downstream",
            lambda s: {"timeout": 0},
            "a black hole: connections accepted, nothing answered",
        ),
        FaultClass(
            "slow_close",
            "slow_close",
            "downstream",
            lambda s: {"delay": s.latency},
            "connections closed `latency` ms late",
        ),
        FaultClass(
            "http_500",
            "http_error",
            "downstream",
            lambda s: {"status": 500},
            "every request answered 500 by the proxy",
        ),
        FaultClass(
            "http_503",
            "http_error",
            "downstream",
            lambda s: {"status": 503},
            "every request answered 503 by the proxy",
        ),
        FaultClass(
            "http_drop", "http_drop", "downstream", _none, "requests delivered, responses lost"
        ),
        FaultClass(
            "transient_503",
            "http_error",
            "downstream",
            lambda s: {"status": 503, "first": 2},
            "the first 2 requests answered 503, then all pass",
        ),
    )
}


def fault_attributes(fault: str, settings: ExploreSettings) -> dict[str, Any]:
    return FAULT_CLASSES[fault].attributes(settings)


@dataclass(frozen=True, slots=True)
class CellFault:
    edge: str
    fault: str

    def __str__(self) -> str:
        return f"{self.edge}:{self.fault}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One or two faults judged together; `id` is what `--only` takes back."""

    faults: tuple[CellFault, ...]

    @property
    def id(self) -> str:
        return "+".join(str(fault) for fault in self.faults)

    @property
    def edge(self) -> str:
        return "+".join(fault.edge for fault in self.faults)

    @property
    def fault(self) -> str:
        return "+".join(fault.fault for fault in self.faults)

    def seed(self, seed: int) -> int:
        """The cell's own seed: the same for a cell whatever else runs (replay)."""
        return zlib.crc32(f"{seed}:{self.id}".encode()) & 0x7FFFFFFF


def _check_fault(fault: CellFault, edges: Sequence[str]) -> CellFault:
    if fault.edge not in edges:
        raise ExploreInputError(
            f"unknown edge {fault.edge!r}; expected one of {', '.join(sorted(edges))}"
        )
    if fault.fault not in FAULT_CLASSES:
        raise ExploreInputError(
            f"unknown fault class {fault.fault!r}; expected one of {', '.join(FAULT_CLASSES)}"
        )
    return fault


def parse_only(value: str, edges: Sequence[str]) -> Cell:
    """`a->b:partition` or `a->b:partition+c->d:http_503` (a cell id) into a `Cell`."""
    faults = []
    for part in value.split("+"):
        edge, sep, fault = part.strip().rpartition(":")
        if not sep or not edge or not fault:
            raise ExploreInputError(
                f"--only: expected EDGE:FAULT (e.g. a->b:partition), got {part.strip()!r}"
            )
        from harness.topology import normalize_edge_name

        try:
            name = normalize_edge_name(edge)
        except ValueError as exc:
            raise ExploreInputError(f"--only: {exc}") from None
        faults.append(_check_fault(CellFault(name, fault.strip()), edges))
    return Cell(tuple(faults))


def check_settings(topology: Topology) -> None:
    """The fault classes and edges `[explore]` names exist (before any cell starts)."""
    settings = topology.explore
    edges = {edge.name for edge in topology.edges}
    for name in (*settings.faults, *settings.max_error_ratio_by_fault):
        if name not in FAULT_CLASSES:
            known = ", ".join(FAULT_CLASSES)
            raise ExploreInputError(
                f"[explore]: unknown fault class {name!r}; expected one of {known}"
            )
    for key, bounds in (
        ("max_error_ratio_by_edge", settings.max_error_ratio_by_edge),
        ("max_amplification_by_edge", settings.max_amplification_by_edge),
    ):
        for edge in bounds:
            if edge not in edges:
                raise ExploreInputError(
                    f"[explore] {key}: unknown edge {edge!r}; expected one of "
                    f"{', '.join(sorted(edges))}"
                )


def generate_cells(
    topology: Topology,
    *,
    seed: int,
    faults: Sequence[str] | None = None,
    pairs: int = 0,
    max_cells: int | None = None,
) -> list[Cell]:
    """Every edge x fault class in a seeded order, then `pairs` pairs of faults on two
    distinct edges; the first `max_cells` of those."""
    edges = [edge.name for edge in topology.edges]
    if not edges:
        raise ExploreInputError("the topology declares no edges: there is nothing to explore")
    classes = list(faults or topology.explore.faults or FAULT_CLASSES)
    for name in classes:
        _check_fault(CellFault(edges[0], name), edges)
    rng = random.Random(seed)
    singles = [Cell((CellFault(edge, fault),)) for edge in edges for fault in classes]
    rng.shuffle(singles)
    doubles: list[Cell] = []
    if pairs and len(edges) > 1:
        seen: set[str] = set()
        attempts = 0
        while len(doubles) < pairs and attempts < pairs * 20:
            attempts += 1
            first, second = rng.sample(edges, 2)
            cell = Cell(
                (CellFault(first, rng.choice(classes)), CellFault(second, rng.choice(classes)))
            )
            if cell.id not in seen:
                seen.add(cell.id)
                doubles.append(cell)
    cells = singles + doubles
    return cells[:max_cells] if max_cells is not None else cells
