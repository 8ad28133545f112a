"""The experiment's assertions, judged through the assertion engine every tick.

`Judge` keeps one `Check` per assertion (pending until its verdict), builds the engine's
`EvaluationContext` from what the run recorded (anchors, metrics timeline, traffic,
conventions), and runs the active checks (HTTP, invariant) in the engine's scheduler.
The runner only asks it to judge, to judge what can be judged on a fail-fast stop, and
to close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.assertions import (
    ActiveChecks,
    Anchors,
    AssertionModel,
    Check,
    EvaluationContext,
    TrafficView,
    conventions_of,
)
from harness.assertions.probing import ProbeContext
from harness.observe.timeline import Timeline
from harness.topology import ResolvedConventions

__all__ = ["Judge", "conventions_of", "describe_assertion"]


def describe_assertion(assertion: AssertionModel) -> str:
    """The expectation in words, for journals and reports."""
    return assertion.describe()


class Judge:
    """One `Check` per assertion, advanced by `judge` until every one is resolved."""

    def __init__(
        self,
        assertions: Sequence[AssertionModel],
        *,
        anchors: Anchors,
        probes: ProbeContext,
        conventions: Callable[[str], ResolvedConventions],
        grace: float,
    ) -> None:
        self.assertions = list(assertions)
        self.checks: list[Check] = [
            Check(name=a.name, kind=a.kind_name(), expectation=a.describe()) for a in assertions
        ]
        self.anchors = anchors
        self.probes = probes
        self.conventions = conventions
        self.grace = grace
        self.active = ActiveChecks()

    def context(
        self, now: float, *, final: bool, timeline: Timeline | None, traffic: TrafficView
    ) -> EvaluationContext:
        return EvaluationContext(
            anchors=self.anchors,
            now=now,
            final=final,
            grace=self.grace,
            timeline=timeline,
            traffic=traffic,
            conventions=self.conventions,
            probes=self.probes,
            active=self.active,
        )

    def judge(self, ctx: EvaluationContext, *, only: Sequence[int] | None = None) -> list[Check]:
        """Judge every pending assertion (or those in `only`); return the newly resolved."""
        resolved = []
        for index, assertion in enumerate(self.assertions):
            if self.checks[index].resolved or (only is not None and index not in only):
                continue
            check = assertion.evaluate(ctx)
            if check.resolved:
                check = check.model_copy(update={"resolved_at": self.anchors.offset(ctx.now)})
                resolved.append(check)
            self.checks[index] = check
        return resolved

    def closed_windows(self, now: float) -> list[int]:
        """Pending assertions whose window has closed by `now` (judgeable on a stop)."""
        found = []
        for index, assertion in enumerate(self.assertions):
            window = assertion.window(self.anchors)
            if self.checks[index].resolved or window is None or window.end is None:
                continue
            if window.end <= now:
                found.append(index)
        return found

    def skip_pending(self, reason: str) -> None:
        self.checks = [
            check.model_copy(update={"status": "skipped", "summary": reason})
            if not check.resolved
            else check
            for check in self.checks
        ]

    @property
    def all_resolved(self) -> bool:
        return all(check.resolved for check in self.checks)

    @property
    def any_failed(self) -> bool:
        return any(check.status == "failed" for check in self.checks)

    def close(self) -> None:
        self.active.close()
