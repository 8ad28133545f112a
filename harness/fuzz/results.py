"""What a fuzzing run produced: passes (one service, one document, maybe one fault), their
figures and failures, and the run's verdict. Reports (text, JSON, JUnit) render these."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FailureReport", "FuzzFigures", "FuzzResult", "PassResult"]


@dataclass(frozen=True, slots=True)
class FailureReport:
    """One distinct failure (a check that failed on an operation), with how to reproduce it.

    `reproduce` is a one-line command sending the failing request (curl); `steps` are the
    requests before it that a stateful failure needs (curl lines, oldest first); `rerun` is
    the harness command that runs the same seeded pass again; `answer` is the status and
    the start of the body the failing request got.
    """

    service: str
    pass_name: str
    operation: str
    check: str
    code: str
    title: str
    message: str
    phase: str
    reproduce: str
    rerun: str
    steps: tuple[str, ...] = ()
    answer: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.pass_name, self.operation, self.check, self.code, self.title)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "pass": self.pass_name,
            "operation": self.operation,
            "check": self.check,
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "phase": self.phase,
            "reproduce": self.reproduce,
            "steps": list(self.steps),
            "rerun": self.rerun,
            "answer": self.answer,
        }


@dataclass(frozen=True, slots=True)
class FuzzFigures:
    """The numbers of a pass or a run."""

    operations_total: int = 0
    operations_covered: int = 0
    cases: int = 0
    checks: int = 0
    failures: int = 0
    errors: int = 0

    def __add__(self, other: FuzzFigures) -> FuzzFigures:
        return FuzzFigures(
            operations_total=self.operations_total + other.operations_total,
            operations_covered=self.operations_covered + other.operations_covered,
            cases=self.cases + other.cases,
            checks=self.checks + other.checks,
            failures=self.failures + other.failures,
            errors=self.errors + other.errors,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "operations_total": self.operations_total,
            "operations_covered": self.operations_covered,
            "cases": self.cases,
            "checks": self.checks,
            "failures": self.failures,
            "errors": self.errors,
        }


@dataclass(slots=True)
class PassResult:
    """One schemathesis run over one service's document.

    `name` is "fuzz" for the ordinary pass, or "partition orders->payments" for a pass run
    while that edge is partitioned. `operations` are every operation of the document;
    `covered` those that got at least one answer. `answers` counts answers by operation and
    status code, `checks_run` check runs by check name. `spec_errors` are operations never
    sent because the document is wrong there (operation -> what is wrong); `errors` are the
    other problems that stopped part of the run (network errors, a missing document).
    `fingerprint` is a digest of every
    request sent, in order: two runs with the same seed on the same data have the same one
    while the system answers the same (the stateful phase follows links from the answers).
    """

    service: str
    name: str
    operations: list[str] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)
    cases: int = 0
    checks: int = 0
    failures: list[FailureReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spec_errors: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Counter[int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per operation
    checks_run: Counter[str] = field(default_factory=Counter)
    # By operation: check runs by check name, and seconds spent in its scenarios.
    operation_checks: dict[str, Counter[str]] = field(default_factory=dict)
    operation_seconds: dict[str, float] = field(default_factory=dict)
    fingerprint: str = ""
    duration: float = 0.0
    skipped: str | None = None  # why the pass did not run (e.g. no OpenAPI document)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.errors and not self.spec_errors

    @property
    def problems(self) -> list[str]:
        """Every error of the pass, spec errors first (`spec error in GET /x: ...`)."""
        spec = [f"spec error in {op}: {why}" for op, why in sorted(self.spec_errors.items())]
        return spec + self.errors

    @property
    def figures(self) -> FuzzFigures:
        return FuzzFigures(
            operations_total=len(self.operations),
            operations_covered=len(self.covered & set(self.operations)),
            cases=self.cases,
            checks=self.checks,
            failures=len(self.failures),
            errors=len(self.problems),
        )

    @property
    def statuses(self) -> Counter[int]:
        """Answers by status code, over every operation."""
        total: Counter[int] = Counter()
        for counts in self.answers.values():
            total.update(counts)
        return total

    @property
    def uncovered(self) -> list[str]:
        """Operations sent but never answered (those with a spec error were never sent)."""
        return sorted(set(self.operations) - self.covered - set(self.spec_errors))

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "pass": self.name,
            "skipped": self.skipped,
            "duration_seconds": round(self.duration, 3),
            "figures": self.figures.to_dict(),
            "operations": self.operations,
            "uncovered": self.uncovered,
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
            "answers": {
                operation: {str(code): n for code, n in sorted(counts.items())}
                for operation, counts in sorted(self.answers.items())
            },
            "seconds": {op: round(t, 3) for op, t in sorted(self.seconds.items())},
            "checks_run": dict(sorted(self.checks_run.items())),
            "fingerprint": self.fingerprint,
            "failures": [failure.to_dict() for failure in self.failures],
            "spec_errors": dict(sorted(self.spec_errors.items())),
            "errors": self.errors,
        }


@dataclass(slots=True)
class FuzzResult:
    """A whole fuzzing run: every pass, the settings that reproduce it, where reports went.

    `passed` is the verdict: no failure and no error in any pass, and at least one pass ran.
    `figures` sums the ordinary passes' operations (each operation counted once) and every
    pass's cases, checks, failures and errors.
    """

    passes: list[PassResult]
    seed: int
    max_examples: int
    duration: float = 0.0
    report_path: Path | None = None
    junit_path: Path | None = None
    rerun: str = ""

    @property
    def passed(self) -> bool:
        ran = [p for p in self.passes if p.skipped is None]
        return bool(ran) and all(p.passed for p in ran)

    @property
    def failures(self) -> list[FailureReport]:
        return [failure for p in self.passes for failure in p.failures]

    @property
    def errors(self) -> list[str]:
        """Every pass's problems (spec errors included), one line each, naming the pass."""
        return [f"{p.service} ({p.name}): {error}" for p in self.passes for error in p.problems]

    @property
    def figures(self) -> FuzzFigures:
        total = FuzzFigures()
        for p in self.passes:
            figures = p.figures
            if p.name != "fuzz":  # a fault pass re-tests operations counted by the fuzz pass
                figures = FuzzFigures(
                    cases=figures.cases,
                    checks=figures.checks,
                    failures=figures.failures,
                    errors=figures.errors,
                )
            total = total + figures
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "duration_seconds": round(self.duration, 3),
            "rerun": self.rerun,
            "figures": self.figures.to_dict(),
            "passes": [p.to_dict() for p in self.passes],
            "junit": str(self.junit_path) if self.junit_path else None,
        }
