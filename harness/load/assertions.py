"""A load profile's assertions, judged by the assertion engine after the run.

The profile's shorthands (`breaker_opened`, ...) are engine `breaker` assertions already
(`LoadProfile.engine_assertions`); here they are judged on the run's timeline with the
fault moments the executor recorded (`Anchors.record_fault_events`), the run's start and
end as `start` and `end`, and the topology's conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.assertions import Anchors, Check, EvaluationContext, evaluate
from harness.assertions.window import FaultWindow, fault_key, fault_windows
from harness.faults import TimelineEvent
from harness.load.profile import LoadProfile
from harness.observe.timeline import Timeline
from harness.topology import ResolvedConventions

__all__ = ["FaultWindow", "evaluate_assertions", "fault_windows", "load_anchors"]


def load_anchors(events: Sequence[TimelineEvent], *, started_at: float, ended_at: float) -> Anchors:
    """`start`/`end` of the run and every fault's `.start`/`.end` as it really happened."""
    anchors = Anchors({"start": started_at, "end": ended_at})
    anchors.record_fault_events(events)
    return anchors


def evaluate_assertions(
    profile: LoadProfile,
    timeline: Timeline,
    anchors: Anchors,
    *,
    conventions: Callable[[str], ResolvedConventions],
    events: Sequence[TimelineEvent] = (),
) -> list[Check]:
    """Every assertion of the profile, judged now that the run is over."""
    ctx = EvaluationContext(
        anchors=anchors,
        now=anchors.time_of_key("end") or 0.0,
        final=True,
        grace=0.0,  # the shorthands carry their own grace in their windows
        timeline=timeline,
        conventions=conventions,
    )
    checks = evaluate(profile.engine_assertions(), ctx)
    return [_with_apply_error(check, profile, events) for check in checks]


def _with_apply_error(check: Check, profile: LoadProfile, events: Sequence[TimelineEvent]) -> Check:
    """A window that never opened because its fault failed to apply says why."""
    if check.passed or "window never opened" not in check.summary:
        return check
    for index, fault in enumerate(profile.faults):
        names = {fault_key(index), fault.label}
        if not any(f"{name}.start did not happen" in check.summary for name in names if name):
            continue
        failed = next(
            (e for e in events if e.fault_index == index and e.action == "apply" and not e.ok),
            None,
        )
        if failed is not None:
            summary = f"{fault.describe()} was never applied: {failed.error}"
            return check.model_copy(update={"summary": summary})
    return check
