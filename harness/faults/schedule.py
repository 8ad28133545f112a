"""Timed faults: the one model shared by chaos experiments and load profiles.

A schedule is a list of faults, each with a start offset and an optional duration:

- an **edge fault** puts a Toxiproxy toxic on an edge (`orders->payments`), or one of the
  embedded fault proxy's HTTP toxics (`http_error`, `http_drop`, `http_delay`), or
  partitions it (`toxic: partition` disables the edge's proxy, so connects are refused);
- a **process fault** kills, pauses or restarts a service (`kill` with a duration restarts
  it when the duration ends; `pause` with a duration resumes it).

`harness.faults.executor.FaultScheduleExecutor` applies them on time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from harness.faultproxy.gojson import STRING, GoMap
from harness.faultproxy.toxics import TOXICS
from harness.topology.edge import Edge

__all__ = [
    "EDGE_TOXICS",
    "EDGE_TOXIC_KINDS",
    "FAULT_TAGS",
    "PARTITION",
    "EdgeFault",
    "FaultScheduleError",
    "FaultSpec",
    "ProcessFault",
    "Repeat",
    "Seconds",
    "check_targets",
    "describe_validation_error",
    "parse_fault_schedule",
    "parse_seconds",
    "schedule_end",
]

log = logging.getLogger(__name__)

PARTITION = "partition"


def _attribute_kinds() -> dict[str, dict[str, type]]:
    """Each toxic type of the fault proxy's registry and the Python type of each attribute:
    int for Go integers, str for strings (HTTP toxics' method, path, body), dict for maps
    (headers). A real Toxiproxy has all but the `http_*` toxics."""
    kinds: dict[str, dict[str, type]] = {}
    for name, toxic in TOXICS.items():
        fields = toxic.go_struct().fields
        kinds[name] = {
            f.json_name: str if f.type is STRING else dict if isinstance(f.type, GoMap) else int
            for f in fields
        }
    return kinds


EDGE_TOXIC_KINDS: Mapping[str, Mapping[str, type]] = _attribute_kinds()
# Toxic types and the attribute names each accepts.
EDGE_TOXICS: Mapping[str, frozenset[str]] = {
    name: frozenset(kinds) for name, kinds in EDGE_TOXIC_KINDS.items()
}
_KIND_NAMES = {int: "an integer (0 or more)", str: "a string", dict: "a mapping of strings"}


class FaultScheduleError(ValueError):
    """A fault schedule is malformed or names an edge or service the system does not have."""


# --- durations -------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def parse_seconds(value: object) -> object:
    """`5`, `2.5`, `"5s"`, `"500ms"`, `"1m"` -> seconds as float; other values pass through."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"expected a duration such as 5, 2.5, '5s', '500ms' or '1m', got {value!r}"
            )
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


Seconds = Annotated[float, BeforeValidator(parse_seconds), Field(ge=0)]


def _normalise_edge(value: object) -> object:
    """`'orders -> payments'` -> `'orders->payments'`, parsed by the one `Edge` type."""
    return Edge.parse(value).name if isinstance(value, str) else value


EdgeName = Annotated[str, BeforeValidator(_normalise_edge)]


# --- the model -------------------------------------------------------------------------


class Repeat(BaseModel):
    """Pulses: the fault happens `times` times, one every `every` seconds from `start`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Annotated[float, BeforeValidator(parse_seconds), Field(gt=0)]
    times: int = Field(ge=2, le=1000)


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Seconds = 0.0
    duration: Seconds | None = None
    label: str | None = None
    repeat: Repeat | None = None

    _declared_index: int | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _pulses_do_not_overlap(self) -> _Fault:
        instant = isinstance(self, ProcessFault) and self.action == "restart"
        too_long = self.duration is None or (
            self.repeat is not None and self.duration >= self.repeat.every
        )
        if self.repeat is not None and not instant and too_long:
            raise ValueError(
                "a repeated fault needs a `duration` shorter than `repeat.every`, "
                "so that one pulse ends before the next begins"
            )
        return self

    def pulses(self) -> list[Self]:
        """This fault once per repetition (itself when it does not repeat)."""
        if self.repeat is None:
            return [self]
        return [
            self.model_copy(update={"start": self.start + n * self.repeat.every, "repeat": None})
            for n in range(self.repeat.times)
        ]

    @property
    def declared_index(self) -> int | None:
        """Index of the entry in the file this fault came from (set by the parser)."""
        return self._declared_index

    @property
    def end(self) -> float | None:
        """Offset at which the fault is removed, or None when it lasts until rollback."""
        return None if self.duration is None else self.start + self.duration


class EdgeFault(_Fault):
    """A toxic (or a partition) on one edge, from `start` for `duration` seconds."""

    edge: EdgeName
    toxic: str
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)
    attributes: dict[str, int | str | dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_toxic(self) -> EdgeFault:
        if self.toxic == PARTITION:
            if self.attributes:
                raise ValueError("a partition takes no attributes")
            return self
        allowed = EDGE_TOXICS.get(self.toxic)
        if allowed is None:
            known = ", ".join([*EDGE_TOXICS, PARTITION])
            raise ValueError(f"unknown toxic {self.toxic!r}; expected one of {known}")
        unknown = sorted(set(self.attributes) - allowed)
        if unknown:
            raise ValueError(
                f"toxic {self.toxic!r} has no attribute {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(sorted(allowed)) or 'none'}"
            )
        kinds = EDGE_TOXIC_KINDS[self.toxic]
        for key, value in self.attributes.items():
            kind = kinds[key]
            wrong_type = not isinstance(value, kind) or isinstance(value, bool)
            if wrong_type or (kind is int and isinstance(value, int) and value < 0):
                raise ValueError(
                    f"attribute {key!r} of toxic {self.toxic!r} must be {_KIND_NAMES[kind]}, "
                    f"got {value!r}"
                )
        return self

    @property
    def target(self) -> str:
        return self.edge

    def describe(self) -> str:
        if self.toxic == PARTITION:
            return self.label or f"partition {self.edge}"
        attrs = " ".join(f"{key}={value}" for key, value in sorted(self.attributes.items()))
        toxicity = "" if self.toxicity == 1.0 else f" toxicity={self.toxicity:g}"
        detail = f" {attrs}" if attrs else ""
        return self.label or f"{self.toxic}{detail} on {self.edge} ({self.stream}{toxicity})"


class ProcessFault(_Fault):
    """Kill, pause or restart one service at `start`.

    `kill` with a duration restarts the service when it ends (without one, at rollback);
    `pause` (SIGSTOP) with a duration resumes it; `restart` is instantaneous.
    """

    service: str = Field(min_length=1)
    action: Literal["kill", "pause", "restart"]

    @model_validator(mode="after")
    def _restart_is_instant(self) -> ProcessFault:
        if self.action == "restart" and self.duration is not None:
            raise ValueError("a restart is instantaneous: drop `duration` (use kill + duration)")
        return self

    @property
    def target(self) -> str:
        return self.service

    def describe(self) -> str:
        return self.label or f"{self.action} {self.service}"


def _fault_kind(value: Any) -> str | None:
    if isinstance(value, Mapping):
        if "edge" in value:
            return "edge"
        if "service" in value:
            return "process"
        return None
    return "edge" if isinstance(value, EdgeFault) else "process"


FaultSpec = Annotated[
    Annotated[EdgeFault, Tag("edge")] | Annotated[ProcessFault, Tag("process")],
    Discriminator(
        _fault_kind,
        custom_error_type="fault_kind",
        custom_error_message="a fault names either `edge` (a toxic or partition) "
        "or `service` (kill, pause, restart)",
    ),
]

_SCHEDULE = TypeAdapter(list[FaultSpec])
# The tags of the fault union: pydantic puts them in error paths, users never wrote them.
FAULT_TAGS = frozenset({"edge", "process"})


def describe_validation_error(
    exc: ValidationError,
    *,
    source: str,
    prefix: str = "",
    union_tags: Iterable[str] = FAULT_TAGS,
) -> str:
    """One line per problem: `source: key.path: message (got value)`.

    `union_tags` are the tags of discriminated unions in the model; they are dropped from
    key paths where they follow a list index.
    """
    tags = frozenset(union_tags)
    lines = []
    for error in exc.errors():
        loc = _user_loc(error["loc"], tags)
        path = ".".join(str(part) for part in (prefix, *loc) if part != "")
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        shown = repr(value)
        # Echo scalars only: a whole mapping or list would bury the message.
        scalar = value is None or isinstance(value, str | int | float | bool)
        got = (
            f" (got {shown})"
            if scalar and error["type"] != "missing" and shown not in message
            else ""
        )
        lines.append(f"{source}: {path + ': ' if path else ''}{message}{got}")
    return "\n".join(lines)


def _user_loc(loc: tuple[int | str, ...], tags: frozenset[str]) -> list[int | str]:
    """Drop the tags pydantic puts in the path of a discriminated union (the user never
    wrote them): a tag is the name of a union member right after a list index."""
    kept: list[int | str] = []
    for position, part in enumerate(loc):
        after_index = position > 0 and isinstance(loc[position - 1], int)
        if after_index and part in tags:
            continue
        kept.append(part)
    return kept


def parse_fault_schedule(
    data: object, *, source: str = "<faults>", prefix: str = "faults"
) -> list[EdgeFault | ProcessFault]:
    """Validate a list of fault dicts (from YAML/TOML) into typed faults.

    Raises FaultScheduleError naming `source`, the key path under `prefix` and the problem;
    overlapping faults on one target are rejected (see `check_overlaps`).
    """
    try:
        declared = _SCHEDULE.validate_python(data)
    except ValidationError as exc:
        message = describe_validation_error(exc, source=source, prefix=prefix)
        raise FaultScheduleError(message) from None
    faults: list[EdgeFault | ProcessFault] = []
    origins: list[int] = []
    for index, fault in enumerate(declared):
        pulses = fault.pulses()
        for pulse in pulses:
            pulse._declared_index = index
        faults += pulses
        origins += [index] * len(pulses)
    _check_overlaps(faults, origins, source=source, prefix=prefix)
    return faults


def _exclusive_key(fault: EdgeFault | ProcessFault) -> str | None:
    # Two partitions of one edge, or two process faults on one service, would undo each
    # other's effect at the first removal; toxics have distinct names and may overlap.
    if isinstance(fault, ProcessFault):
        return f"service {fault.service}" if fault.action != "restart" else None
    return f"edge {fault.edge}" if fault.toxic == PARTITION else None


def _check_overlaps(
    faults: Sequence[EdgeFault | ProcessFault],
    origins: Sequence[int],
    *,
    source: str,
    prefix: str,
) -> None:
    """Reject exclusive faults on one target that overlap; `origins` maps each (expanded)
    fault back to its index in the file."""
    seen: dict[str, list[tuple[int, EdgeFault | ProcessFault]]] = {}
    for position, fault in enumerate(faults):
        index = origins[position]
        key = _exclusive_key(fault)
        if key is None:
            continue
        for other_index, other in seen.get(key, []):
            other_end = other.end if other.end is not None else float("inf")
            end = fault.end if fault.end is not None else float("inf")
            if fault.start < other_end and other.start < end:
                raise FaultScheduleError(
                    f"{source}: {prefix}.{index}: {fault.describe()} overlaps "
                    f"{prefix}.{other_index} ({other.describe()}) on {key}; "
                    "expected faults on one target not to overlap in time"
                )
        seen.setdefault(key, []).append((index, fault))


def check_targets(
    faults: Iterable[EdgeFault | ProcessFault],
    *,
    edges: Iterable[str],
    services: Iterable[str],
    source: str = "<faults>",
    prefix: str = "faults",
) -> None:
    """Raise FaultScheduleError when a fault names an edge or service the system lacks."""
    known_edges, known_services = sorted(edges), sorted(services)
    for position, fault in enumerate(faults):
        index = fault.declared_index if fault.declared_index is not None else position
        if isinstance(fault, EdgeFault) and fault.edge not in known_edges:
            raise FaultScheduleError(
                f"{source}: {prefix}.{index}.edge: unknown edge {fault.edge!r}; "
                f"expected one of {', '.join(known_edges) or '(none)'}"
            )
        if isinstance(fault, ProcessFault) and fault.service not in known_services:
            raise FaultScheduleError(
                f"{source}: {prefix}.{index}.service: unknown service {fault.service!r}; "
                f"expected one of {', '.join(known_services) or '(none)'}"
            )


def schedule_end(faults: Iterable[EdgeFault | ProcessFault]) -> float:
    """Offset of the last timed action (a start or a timed removal); 0 for no faults."""
    return max(
        (fault.end if fault.end is not None else fault.start for fault in faults), default=0.0
    )
