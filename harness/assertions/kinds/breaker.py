"""`breaker:` an edge's circuit breaker reached (or kept) a state, or made transitions.

The breaker is read the way the topology's `[conventions.breaker]` of the edge's source
says (its gauge, the labels that pick the edge, the state values, and optionally a
transitions counter); a topology without one is refused at validation.

    - name: breaker opens within 8 s of the fault
      breaker: orders -> payments
      state: open                      # or transitions: [closed->open, open->half_open]
      after: slow-payments.start
      within: 8s
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, model_validator

from harness.assertions.check import Check
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.series import (
    first_increase,
    judge_series,
    window_evidence,
    within,
)
from harness.assertions.window import Window
from harness.observe.timeline import Timeline
from harness.topology import BreakerConvention, Edge, EdgeField, ResolvedConventions

__all__ = ["BreakerAssertion", "describe_series", "missing_convention"]

_STATE = r"[A-Za-z_][\w-]*"
_TRANSITION = re.compile(rf"^\s*({_STATE})\s*->\s*({_STATE})\s*$")


def _transition(value: object) -> object:
    if isinstance(value, str):
        match = _TRANSITION.match(value)
        if match is None:
            raise ValueError(f"expected a transition such as 'open->half_open', got {value!r}")
        return (match.group(1), match.group(2))
    return value


Transition = Annotated[tuple[str, str], BeforeValidator(_transition)]


def describe_series(metric: str, labels: dict[str, str]) -> str:
    """`breaker_state{dependency="payments"}`."""
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def missing_convention(service: str) -> str:
    return (
        f"service {service!r} has no breaker convention: declare how its breaker state is "
        "exposed in the topology ([conventions.breaker] or [services."
        f"{service}.conventions.breaker]: metric, labels, states)"
    )


@register
class BreakerAssertion(AssertionModel):
    """The breaker of an edge: reaches `state` (or stays in it with `mode: always`), or
    makes each of `transitions` in order (read from the transitions counter, so a state
    held for less than a scrape interval is still seen)."""

    keys: ClassVar[tuple[str, ...]] = ("breaker",)
    breaker: EdgeField
    state: str | None = None
    transitions: list[Transition] | None = None
    mode: Literal["eventually", "always"] = "eventually"

    @model_validator(mode="after")
    def _state_or_transitions(self) -> BreakerAssertion:
        if (self.state is None) == (self.transitions is None):
            raise ValueError("give either `state` or `transitions`")
        if self.transitions is not None and not self.transitions:
            raise ValueError("`transitions` must list at least one, e.g. ['open->half_open']")
        if self.transitions is not None and self.mode == "always":
            raise ValueError("`mode: always` applies to `state`, not `transitions`")
        return self

    @property
    def edge(self) -> Edge:
        return self.breaker

    def describe(self) -> str:
        if self.transitions is not None:
            steps = " then ".join(f"{a}->{b}" for a, b in self.transitions)
            what = f"breaker {self.breaker} goes {steps}"
        else:
            verb = "is" if self.mode == "always" else "becomes"
            what = f"breaker {self.breaker} {verb} {self.state}"
        return f"{what} {self.describe_window()}"

    def problems(self, scope: Scope) -> list[Problem]:
        unknown = scope.edge_problem(self.breaker)
        if unknown:
            return [("breaker", unknown)]
        if scope.conventions is None:
            return []
        convention = scope.conventions(self.breaker.source).breaker
        if convention is None:
            return [("breaker", missing_convention(self.breaker.source))]
        found: list[Problem] = []
        names = [("state", self.state)] if self.state is not None else []
        for a, b in self.transitions or []:
            names += [("transitions", a), ("transitions", b)]
        for key, name in dict.fromkeys(names):
            if name not in convention.states:
                declared = ", ".join(convention.states)
                found.append(
                    (
                        key,
                        f"breaker state {name!r} is not declared by the breaker convention "
                        f"of {self.breaker.source!r}; expected one of {declared}",
                    )
                )
        if self.transitions is not None and convention.transitions is None:
            found.append(
                (
                    "transitions",
                    "`transitions` need a transitions counter: the breaker convention of "
                    f'{self.breaker.source!r} declares none (`transitions = "<counter>"`)',
                )
            )
        return found

    def metric_names(self, conventions: Callable[[str], ResolvedConventions]) -> set[str]:
        convention = conventions(self.breaker.source).breaker
        if convention is None:
            return set()
        return {convention.metric} | ({convention.transitions} if convention.transitions else set())

    def evaluate(self, ctx: EvaluationContext) -> Check:
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        convention = ctx.conventions(self.breaker.source).breaker
        if convention is None:
            return self.result("failed", missing_convention(self.breaker.source))
        if ctx.timeline is None:
            return self.result("failed" if ctx.final else "pending", "no metrics were recorded")
        if self.transitions is not None:
            return self._transitions(ctx, ctx.timeline, window, convention)
        return self._state(ctx, ctx.timeline, window, convention)

    def _state(
        self, ctx: EvaluationContext, timeline: Timeline, window: Window, conv: BreakerConvention
    ) -> Check:
        assert self.state is not None
        source, target = self.breaker.source, self.breaker.target
        labels = conv.labels_for(source, target)
        code = conv.state_value(self.state)
        end = (
            None
            if window.end is None
            else window.end + (ctx.grace if self.mode == "eventually" else 0)
        )
        series = timeline.series(source, conv.metric, **labels)
        status, summary, evidence, observed = judge_series(
            within(series, window.start, end),
            lambda value: value == code,
            mode=self.mode,
            window=window,
            now=ctx.now,
            final=ctx.final,
            grace=ctx.grace,
            anchors=ctx.anchors,
            what=f"breaker {self.breaker}",
            bound=self.state,
            show=conv.state_name,
        )
        if self.mode == "eventually" and status != "passed" and conv.transitions:
            # A state held for less than a scrape interval still shows in the counter.
            to_label = conv.transition_labels[1]
            moved = first_increase(
                timeline.counter_series(
                    source, conv.transitions, **labels, **{to_label: self.state}
                ),
                window.start,
                end,
            )
            if moved is not None:
                delay = moved - window.start
                return self.result(
                    "passed",
                    f"breaker {self.breaker} moved to {self.state} "
                    f"{delay:.1f}s into the window (transition counter)",
                    {**evidence, "transition_seen_at": ctx.anchors.offset(moved)},
                    observed=round(delay, 3),
                    unit="s",
                )
        if status == "failed" and self.mode == "eventually" and self.within is not None:
            late = next((p for p in series if p.t > window.start and p.value == code), None)
            if late is not None:
                delay = late.t - window.start
                return self.result(
                    "failed",
                    f"breaker {self.breaker} {self.state} {delay:.1f}s after {self.after}, "
                    f"limit {self.within:g}s: missed by {delay - self.within:.1f}s",
                    evidence,
                    observed=round(delay, 3),
                    limit=self.within,
                    unit="s",
                    comparison="<=",
                )
        if status == "failed" and not series:
            summary = (
                f"breaker {self.breaker}: no series {describe_series(conv.metric, labels)} "
                f"was ever scraped from {source}" + _exposed_hint(timeline, source, conv.metric)
            )
        if self.mode == "eventually" and observed is not None:
            limit = self.within
            return self.result(
                status,
                summary,
                evidence,
                observed=observed,
                limit=limit,
                unit="s",
                comparison="<=" if limit is not None else None,
            )
        return self.result(status, summary, evidence)

    def _transitions(
        self, ctx: EvaluationContext, timeline: Timeline, window: Window, conv: BreakerConvention
    ) -> Check:
        assert self.transitions is not None
        if conv.transitions is None:
            return self.result(
                "failed",
                f"the breaker convention of {self.breaker.source!r} declares no transitions "
                "counter",
            )
        source, target = self.breaker.source, self.breaker.target
        labels = conv.labels_for(source, target)
        from_label, to_label = conv.transition_labels
        end = None if window.end is None else window.end + ctx.grace
        after = window.start
        seen: list[dict[str, object]] = []
        for from_state, to_state in self.transitions:
            series = timeline.counter_series(
                source, conv.transitions, **labels, **{from_label: from_state, to_label: to_state}
            )
            at = first_increase(series, after, end)
            label = f"{from_state}->{to_state}"
            if at is None:
                evidence = {
                    **window_evidence(window, ctx.anchors, ctx.grace),
                    "transitions_seen": seen,
                }
                if window.closed(ctx.now, grace=ctx.grace) or ctx.final:
                    return self.result(
                        "failed",
                        f"breaker {self.breaker}: no {label} transition"
                        + (f" after {seen[-1]['transition']}" if seen else "")
                        + f" in the window (counter {describe_series(conv.transitions, labels)})",
                        evidence,
                    )
                return self.result("pending", f"waiting for {label} on {self.breaker}", evidence)
            seen.append({"transition": label, "at": ctx.anchors.offset(at)})
            after = at
        evidence = {**window_evidence(window, ctx.anchors, ctx.grace), "transitions_seen": seen}
        steps = ", ".join(f"{s['transition']} at +{s['at']}s" for s in seen)
        return self.result("passed", f"breaker {self.breaker}: {steps}", evidence)


def _exposed_hint(timeline: Timeline, service: str, metric: str) -> str:
    if not timeline.exposed(service, metric):
        return f" ({service} never exposed {metric})"
    values = sorted(timeline.label_sets(service, metric))
    shown = "; ".join(values[:5]) or "none"
    return f" (its {metric} series have labels: {shown})"
