"""Timed faults: the one model and executor shared by chaos experiments and load profiles.

A schedule is a list of faults, each with a start offset and an optional duration:

- an **edge fault** puts a Toxiproxy toxic on an edge (`orders->payments`), or partitions
  it (`toxic: partition` disables the edge's proxy, so connects are refused);
- a **process fault** kills, pauses or restarts a service (`kill` with a duration restarts
  it when the duration ends; `pause` with a duration resumes it).

`FaultScheduleExecutor` applies them on time against anything shaped like
`harness.runtime.RunningSystem` (see `FaultTarget`), records a timeline of every action,
and always rolls back what it applied: on `stop()`, on leaving its `with` block, and when
applying a fault raises. Time enters through `Clock`, so tests run without sleeping.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, Self

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

__all__ = [
    "EDGE_TOXICS",
    "FAULT_TAGS",
    "PARTITION",
    "Clock",
    "EdgeFault",
    "FaultInjectorLike",
    "FaultScheduleError",
    "FaultScheduleExecutor",
    "FaultSpec",
    "FaultTarget",
    "MonotonicClock",
    "ProcessFault",
    "Repeat",
    "Seconds",
    "TimelineEvent",
    "check_targets",
    "describe_validation_error",
    "parse_fault_schedule",
    "parse_seconds",
    "schedule_end",
]

log = logging.getLogger(__name__)

PARTITION = "partition"
# Toxic types and the attribute names each accepts (Toxiproxy v2.8 registry; all integers).
EDGE_TOXICS: Mapping[str, frozenset[str]] = {
    "latency": frozenset({"latency", "jitter"}),
    "bandwidth": frozenset({"rate"}),
    "slow_close": frozenset({"delay"}),
    "timeout": frozenset({"timeout"}),
    "reset_peer": frozenset({"timeout"}),
    "slicer": frozenset({"average_size", "size_variation", "delay"}),
    "limit_data": frozenset({"bytes"}),
    "noop": frozenset(),
}


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
    if isinstance(value, str):
        parts = [part.strip() for part in value.split("->")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"expected an edge as 'caller->callee', got {value!r}")
        return f"{parts[0]}->{parts[1]}"
    return value


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
    attributes: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

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


# --- what the executor drives ----------------------------------------------------------


class FaultInjectorLike(Protocol):
    """The part of `harness.faults.FaultInjector` the executor uses."""

    def add_toxic(
        self,
        edge: str,
        type: str,
        *,
        stream: str = ...,
        toxicity: float = ...,
        attributes: dict[str, Any] | None = ...,
        name: str | None = ...,
    ) -> str: ...

    def remove_toxic(self, edge: str, name: str) -> None: ...

    def partition(self, edge: str) -> None: ...

    def heal(self, edge: str) -> None: ...


class FaultTarget(Protocol):
    """The part of `harness.runtime.RunningSystem` the executor uses."""

    @property
    def faults(self) -> FaultInjectorLike: ...

    def kill(self, service: str) -> None: ...

    def restart(self, service: str) -> None: ...

    def pause(self, service: str) -> None: ...

    def resume(self, service: str) -> None: ...

    def wait_healthy(self, service: str, timeout: float = ...) -> None: ...


class Clock(Protocol):
    """Where the executor gets time from; tests pass one that advances without sleeping."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds`; True when `stop` was set (the wait ends early)."""
        ...


class MonotonicClock:
    """The real clock: `time.monotonic`, `time.time`, and an interruptible wait."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))


class TimelineEvent(BaseModel):
    """One action the executor took (or failed to take)."""

    at: float = Field(description="wall-clock time (time.time()) of the action")
    offset: float = Field(description="seconds since the schedule started")
    action: Literal["apply", "remove", "rollback"]
    fault_index: int
    kind: Literal["edge", "process"]
    target: str
    label: str | None = Field(default=None, description="the fault's `label`, if it has one")
    description: str
    ok: bool = True
    error: str | None = None


# --- the executor ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    offset: float
    action: Literal["apply", "remove"]
    index: int


_Undo = Callable[[], None]


@dataclass(slots=True)
class _Applied:
    undo: _Undo
    fault: EdgeFault | ProcessFault


class FaultScheduleExecutor:
    """Apply a fault schedule on time, record a timeline, and always roll back.

    Usage: `with FaultScheduleExecutor(faults, system) as run: ... run.wait()`; leaving the
    block stops pending steps and undoes every fault still applied (removes toxics, heals
    partitions, resumes paused and restarts killed services). `run()` does it all blocking.

    Args:
        faults: the schedule (see `parse_fault_schedule`).
        system: a `RunningSystem` or anything implementing `FaultTarget`.
        clock: time source; default `MonotonicClock()`.
        restart_timeout: seconds to wait for a restarted service to be healthy (default 30).
        on_event: called with each `TimelineEvent` as it happens (live views), from the
            executor's thread; exceptions it raises are logged and ignored.
    """

    def __init__(
        self,
        faults: Sequence[EdgeFault | ProcessFault],
        system: FaultTarget,
        *,
        clock: Clock | None = None,
        restart_timeout: float = 30.0,
        on_event: Callable[[TimelineEvent], None] | None = None,
    ) -> None:
        self._faults = list(faults)
        self._system = system
        self._clock = clock or MonotonicClock()
        self._restart_timeout = restart_timeout
        self._on_event = on_event
        self._steps = _plan(self._faults)
        self._applied: dict[int, _Applied] = {}
        self._timeline: list[TimelineEvent] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_mono: float | None = None
        self.started_at: float | None = None
        """Wall-clock time the schedule started (None before `start()`)."""

    # -- public ------------------------------------------------------------------------

    @property
    def timeline(self) -> list[TimelineEvent]:
        with self._lock:
            return list(self._timeline)

    @property
    def active(self) -> list[str]:
        """Descriptions of the faults applied and not yet removed."""
        with self._lock:
            return [applied.fault.describe() for applied in self._applied.values()]

    @property
    def errors(self) -> list[TimelineEvent]:
        return [event for event in self.timeline if not event.ok]

    @property
    def end_offset(self) -> float:
        return schedule_end(self._faults)

    def start(self) -> None:
        """Start applying the schedule in a background thread (offset 0 is now)."""
        if self._thread is not None:
            raise RuntimeError("this schedule was already started")
        self._mark_started()
        self._thread = threading.Thread(target=self._run_steps, name="fault-schedule", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every timed step ran (True) or `timeout` elapsed (False)."""
        return self._done.wait(timeout)

    def stop(self) -> list[TimelineEvent]:
        """Cancel pending steps and roll back every fault still applied; idempotent."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.rollback()
        return self.timeline

    def run(self) -> list[TimelineEvent]:
        """Apply the whole schedule in this thread, then roll back what is left."""
        self._mark_started()
        try:
            self._run_steps()
        finally:
            self.rollback()
        return self.timeline

    def rollback(self) -> None:
        """Undo every fault still applied, newest first; failures are recorded, not raised."""
        with self._lock:
            pending = sorted(self._applied.items(), reverse=True)
            self._applied.clear()
        for index, applied in pending:
            self._attempt("rollback", index, applied.fault, _no_undo(applied.undo))

    def __enter__(self) -> FaultScheduleExecutor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------

    def _mark_started(self) -> None:
        self._started_mono = self._clock.monotonic()
        self.started_at = self._clock.time()

    def _offset(self) -> float:
        assert self._started_mono is not None
        return self._clock.monotonic() - self._started_mono

    def _run_steps(self) -> None:
        try:
            for step in self._steps:
                if self._clock.wait(step.offset - self._offset(), self._stop):
                    return
                self._execute(step)
        finally:
            self._done.set()

    def _execute(self, step: _Step) -> None:
        fault = self._faults[step.index]
        if step.action == "apply":
            undo = self._attempt("apply", step.index, fault, lambda: self._apply(step.index, fault))
            if undo is not None:
                with self._lock:
                    self._applied[step.index] = _Applied(undo=undo, fault=fault)
            return
        with self._lock:
            applied = self._applied.pop(step.index, None)
        if applied is not None:  # None when applying failed: nothing to remove
            self._attempt("remove", step.index, fault, _no_undo(applied.undo))

    def _attempt(
        self,
        action: Literal["apply", "remove", "rollback"],
        index: int,
        fault: EdgeFault | ProcessFault,
        call: Callable[[], _Undo | None],
    ) -> _Undo | None:
        """Run `call`, record the outcome; return its undo (None when it failed or has none)."""
        error: str | None = None
        result: _Undo | None = None
        try:
            result = call()
        except Exception as exc:  # recorded in the timeline; the schedule carries on
            error = f"{type(exc).__name__}: {exc}"
            log.warning("fault schedule: %s %s failed: %s", action, fault.describe(), error)
        self._record(action, index, fault, error)
        return result

    def _record(
        self,
        action: Literal["apply", "remove", "rollback"],
        index: int,
        fault: EdgeFault | ProcessFault,
        error: str | None,
    ) -> None:
        event = TimelineEvent(
            at=self._clock.time(),
            offset=round(self._offset(), 3),
            action=action,
            fault_index=index,
            kind="edge" if isinstance(fault, EdgeFault) else "process",
            target=fault.target,
            label=fault.label,
            description=fault.describe(),
            ok=error is None,
            error=error,
        )
        with self._lock:
            self._timeline.append(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("fault schedule: on_event callback failed")

    def _apply(self, index: int, fault: EdgeFault | ProcessFault) -> _Undo | None:
        """Apply one fault; return what undoes it (None for an instantaneous restart)."""
        if isinstance(fault, EdgeFault):
            return self._apply_edge(index, fault)
        return self._apply_process(fault)

    def _apply_edge(self, index: int, fault: EdgeFault) -> _Undo:
        injector = self._system.faults
        edge = fault.edge
        if fault.toxic == PARTITION:
            injector.partition(edge)
            return lambda: injector.heal(edge)
        name = injector.add_toxic(
            edge,
            fault.toxic,
            stream=fault.stream,
            toxicity=fault.toxicity,
            attributes=dict(fault.attributes),
            name=f"schedule-{index}-{fault.toxic}-{fault.stream}",
        )
        return lambda: injector.remove_toxic(edge, name)

    def _apply_process(self, fault: ProcessFault) -> _Undo | None:
        system, service = self._system, fault.service
        if fault.action == "pause":
            system.pause(service)
            return lambda: system.resume(service)
        if fault.action == "kill":
            system.kill(service)
            return lambda: self._restart(service)
        self._restart(service)
        return None

    def _restart(self, service: str) -> None:
        self._system.restart(service)
        self._system.wait_healthy(service, timeout=self._restart_timeout)


def _no_undo(undo: _Undo) -> Callable[[], None]:
    """Wrap an undo so `_attempt` records it without tracking a further undo."""

    def call() -> None:
        undo()

    return call


def _plan(faults: Sequence[EdgeFault | ProcessFault]) -> list[_Step]:
    steps: list[_Step] = []
    for index, fault in enumerate(faults):
        steps.append(_Step(fault.start, "apply", index))
        if fault.end is not None and not (
            isinstance(fault, ProcessFault) and fault.action == "restart"
        ):
            steps.append(_Step(fault.end, "remove", index))
    # At equal offsets removals go first, so back-to-back faults on a target do not overlap.
    return sorted(steps, key=lambda step: (step.offset, step.action != "remove", step.index))
