"""What a run produced: per-assertion results, probe results, the run's event log and the
overall status. The journal and the reports are renderings of an `ExperimentResult`."""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.assertions import Anchors, Check
from harness.assertions.probing import ProbeResult
from harness.chaos.model import Experiment
from harness.faults import TimelineEvent
from harness.observe.timeline import Timeline
from harness.traffic import TrafficRecord

__all__ = ["AssertionResult", "ExperimentResult", "ProbeOutcome", "RunEvent", "RunStatus"]

RunStatus = Literal["passed", "failed", "aborted", "interrupted"]


#: An assertion's outcome is the engine's `Check` (kept under its old name for callers).
AssertionResult = Check


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    name: str
    kind: str
    result: ProbeResult

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, **self.result.to_dict()}


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One line of the run's own timeline (phases, faults, traffic, assertion verdicts)."""

    at: float
    offset: float | None
    kind: str
    message: str
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "offset": self.offset,
            "kind": self.kind,
            "message": self.message,
            "ok": self.ok,
        }


@dataclass(slots=True)
class ExperimentResult:
    experiment: Experiment
    seed: int
    status: RunStatus = "aborted"
    reason: str = ""
    started_at: float = 0.0
    ended_at: float = 0.0
    method_started_at: float | None = None
    steady_before: list[ProbeOutcome] = field(default_factory=list)
    steady_after: list[ProbeOutcome] = field(default_factory=list)
    assertions: list[Check] = field(default_factory=list)
    fault_events: list[TimelineEvent] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)
    traffic: list[TrafficRecord] = field(default_factory=list)
    traffic_context: Mapping[str, Any] = field(default_factory=dict)
    anchors: Mapping[str, float] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    breaker_series: Mapping[str, list[tuple[float, float]]] = field(default_factory=dict)
    load: Mapping[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    scrape_failures: list[dict[str, Any]] = field(default_factory=list)
    system: Mapping[str, Any] = field(default_factory=dict)
    journal_path: Path | None = None
    report_path: Path | None = None
    # What the replay command needs beside the experiment and seed (None: not known here).
    topology: Path | None = None
    backend: str = "process"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def record_timeline(self, timeline: Timeline, names: Sequence[str], anchors: Anchors) -> None:
        """Keep what the journal and report show of the metrics timeline: the series named,
        every edge's breaker states, and each failed scrape."""
        self.metrics = timeline.to_dict(names=names)
        self.breaker_series = {
            edge: [(p.t, p.value) for p in points]
            for edge, points in timeline.breaker_states().items()
        }
        self.scrape_failures = [
            {"service": f.service, "at": anchors.offset(f.at), "error": f.error}
            for f in timeline.failures
        ]

    def conclude(self, *, interrupted: bool, aborted: bool) -> None:
        """Set the end time and the status: interrupted, aborted, else failed when an
        assertion failed, the steady state deviated or something went wrong."""
        if self.load is not None and not self.load.get("passed", True):
            failed = [check.get("name", "?") for check in self.load.get("failed_checks", [])]
            why = self.load.get("error") or f"failed checks: {', '.join(failed)}"
            self.errors.append(f"load profile {self.load.get('profile', '')}: {why}")
        self.ended_at = time.time()
        if interrupted:
            self.status = "interrupted"
        elif aborted:
            self.status = "aborted"
        elif self.failed_assertions or self.deviated or self.errors:
            self.status = "failed"
        else:
            self.status = "passed"

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def deviated(self) -> bool:
        """The steady state did not hold after the method (Chaos Toolkit's meaning)."""
        return any(not probe.result.ok for probe in self.steady_after)

    @property
    def failed_assertions(self) -> list[Check]:
        """Assertions that did not pass (failed, or skipped after a fail-fast stop)."""
        return [a for a in self.assertions if a.status != "passed"]

    @property
    def failed_names(self) -> list[str]:
        """Names of the assertions that were judged and failed."""
        return [a.name for a in self.assertions if a.status == "failed"]

    @property
    def replay_command(self) -> str:
        """`harness chaos run` with the file, topology, seed and backend of this run."""
        parts = ["harness", "chaos", "run", str(self.experiment.source)]
        if self.topology is not None:
            parts += ["-t", str(self.topology)]
        parts += ["--seed", str(self.seed)]
        if self.backend != "process":
            parts += ["--backend", self.backend]
        return shlex.join(parts)

    def summary(self) -> str:
        """A few lines a failing test or CI log can show."""
        lines = [
            f"{self.experiment.title}: {self.status.upper()} in {self.duration:.1f}s "
            f"(seed {self.seed})"
        ]
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        for probe in self.steady_before + self.steady_after:
            if not probe.result.ok:
                lines.append(f"  steady state: {probe.name}: {probe.result.summary}")
        for assertion in self.failed_assertions:
            lines.append(f"  FAILED {assertion.name}: {assertion.summary}")
        lines += [f"  error: {error}" for error in self.errors]
        if self.scrape_failures:
            services = sorted({str(f["service"]) for f in self.scrape_failures})
            lines.append(
                f"  metrics: {len(self.scrape_failures)} scrape(s) failed ({', '.join(services)})"
            )
        if not self.passed:
            lines.append(f"  replay: {self.replay_command}")
        return "\n".join(lines)
