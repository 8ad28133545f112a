"""What a run produced: per-assertion results, probe results, the run's event log and the
overall status. The journal and the reports are renderings of an `ExperimentResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.chaos.model import Experiment
from harness.chaos.probes import ProbeResult
from harness.faults import TimelineEvent
from harness.traffic import TrafficRecord

__all__ = ["AssertionResult", "ExperimentResult", "ProbeOutcome", "RunEvent", "RunStatus"]

RunStatus = Literal["passed", "failed", "aborted", "interrupted"]


@dataclass(slots=True)
class AssertionResult:
    """One assertion's outcome; `resolved_at` is seconds from the method's start."""

    name: str
    kind: str
    expectation: str
    status: Literal["pending", "passed", "failed", "skipped"] = "pending"
    summary: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    resolved_at: float | None = None
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "expectation": self.expectation,
            "status": self.status,
            "summary": self.summary,
            "resolved_at": self.resolved_at,
            "attempts": self.attempts,
            "evidence": dict(self.evidence),
        }


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
    assertions: list[AssertionResult] = field(default_factory=list)
    fault_events: list[TimelineEvent] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)
    traffic: list[TrafficRecord] = field(default_factory=list)
    traffic_context: Mapping[str, Any] = field(default_factory=dict)
    anchors: Mapping[str, float] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    load: Mapping[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    scrape_failures: int = 0
    system: Mapping[str, Any] = field(default_factory=dict)
    journal_path: Path | None = None
    report_path: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def deviated(self) -> bool:
        """The steady state did not hold after the method (Chaos Toolkit's meaning)."""
        return any(not probe.result.ok for probe in self.steady_after)

    @property
    def failed_assertions(self) -> list[AssertionResult]:
        """Assertions that did not pass (failed, or skipped after a fail-fast stop)."""
        return [a for a in self.assertions if a.status != "passed"]

    @property
    def failed_names(self) -> list[str]:
        """Names of the assertions that were judged and failed."""
        return [a.name for a in self.assertions if a.status == "failed"]

    @property
    def replay_command(self) -> str:
        return f"harness chaos run {self.experiment.source} --seed {self.seed}"

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
        if not self.passed:
            lines.append(f"  replay: {self.replay_command}")
        return "\n".join(lines)
