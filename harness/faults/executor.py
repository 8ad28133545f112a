"""Run a fault schedule: apply each fault on time, record a timeline, always roll back.

`FaultScheduleExecutor` applies faults (`harness.faults.schedule`) against anything shaped
like `harness.runtime.RunningSystem` (see `FaultTarget`), records a timeline of every action,
and always rolls back what it applied: on `stop()`, on leaving its `with` block, and when
applying a fault raises. Time enters through `Clock`, so tests run without sleeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from harness.faults.schedule import PARTITION, EdgeFault, ProcessFault, schedule_end
from harness.schemas import UtcTime
from harness.system import FaultInjectorLike, FaultTarget

__all__ = [
    "Clock",
    "FaultInjectorLike",
    "FaultScheduleExecutor",
    "FaultTarget",
    "MonotonicClock",
    "TimelineEvent",
]

log = logging.getLogger(__name__)

# --- what the executor drives ----------------------------------------------------------


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

    at: UtcTime = Field(description="wall-clock time of the action (ISO 8601 UTC in JSON)")
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
