"""`metric:` a service's metric read from the timeline over a window.

    - name: retries stay bounded per request
      metric: outbound_retries_total
      service: gateway
      labels: {dependency: users}
      measure: increase
      per: {metric: outbound_requests_total, service: gateway, labels: {dependency: users}}
      at_most: 0.5

A metric that the service never exposed fails, naming it (an upper bound on a misspelled
name would otherwise pass on no data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.assertions.check import Check
from harness.assertions.compare import Compared
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.series import Mode, baseline, cumulative, judge_series, within
from harness.observe.timeline import Point, Timeline
from harness.topology import ResolvedConventions

__all__ = ["MetricAssertion", "MetricRef"]


class MetricRef(BaseModel):
    """A metric of one service: `name{labels}` summed over matching series."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1)
    service: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_strings(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    def describe_metric(self) -> str:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.service}:{self.metric}{{{labels}}}"

    def metric_problems(self, scope: Scope, *, key: str = "service") -> list[Problem]:
        problem = scope.service_problem(self.service)
        if problem:
            return [(key, problem)]
        if scope.conventions is not None and not scope.conventions(self.service).metrics:
            return [
                (
                    key,
                    f"service {self.service!r} exposes no metrics: its `metrics` convention "
                    'is empty (declare metrics = "/metrics" in the topology)',
                )
            ]
        return []


@register
class MetricAssertion(MetricRef, Compared, AssertionModel):
    """A metric read from the timeline over a window.

    `measure: value` compares each scrape (`mode: eventually` by default: some scrape in
    the window satisfies it; `always`: every scrape does). `measure: increase` compares
    how much a counter grew over the window (`mode: overall`), optionally divided by the
    increase of `per` (e.g. retries per request).
    """

    keys: ClassVar[tuple[str, ...]] = ("metric",)
    measure: Literal["value", "increase"] = "value"
    per: MetricRef | None = None
    mode: Mode | None = None

    @model_validator(mode="after")
    def _mode_fits_measure(self) -> MetricAssertion:
        if self.per is not None and self.measure != "increase":
            raise ValueError("`per` divides increases: add `measure: increase`")
        if self.measure == "value" and self.mode == "overall":
            raise ValueError("`mode: overall` needs `measure: increase`")
        return self

    @property
    def effective_mode(self) -> Mode:
        return self.mode or ("overall" if self.measure == "increase" else "eventually")

    def describe(self) -> str:
        measure = "increase of " if self.measure == "increase" else ""
        per = f" per {self.per.describe_metric()}" if self.per else ""
        return (
            f"{self.effective_mode}: {measure}{self.describe_metric()}{per} "
            f"{self.describe_comparison()} {self.describe_window()}"
        )

    def problems(self, scope: Scope) -> list[Problem]:
        return self.metric_problems(scope) + (
            self.per.metric_problems(scope, key="per.service") if self.per is not None else []
        )

    def metric_names(self, conventions: Callable[[str], ResolvedConventions]) -> set[str]:
        return {self.metric} | ({self.per.metric} if self.per is not None else set())

    def evaluate(self, ctx: EvaluationContext) -> Check:
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        timeline = ctx.timeline
        if timeline is None:
            return self.result("failed" if ctx.final else "pending", "no metrics were recorded")
        mode = self.effective_mode
        end = (
            None
            if window.end is None
            else window.end + (ctx.grace if mode == "eventually" else 0.0)
        )
        what = self.describe_metric()
        if self.measure == "value":
            points = within(
                timeline.series(self.service, self.metric, **self.labels), window.start, end
            )
        else:
            points = self._increase_points(timeline, window.start, end)
            what = f"increase of {what}" + (
                f" per increase of {self.per.describe_metric()}" if self.per else ""
            )
        status, summary, evidence, observed = judge_series(
            points,
            self.compare,
            mode=mode,
            window=window,
            now=ctx.now,
            final=ctx.final,
            grace=ctx.grace,
            anchors=ctx.anchors,
            what=what,
            bound=self.describe_comparison(),
        )
        if status == "passed" or ctx.final or window.closed(ctx.now, grace=ctx.grace):
            unknown = self._never_exposed(timeline)
            if unknown is not None:
                return self.result("failed", unknown, evidence)
        figures = {"observed": observed, "limit": self.bound, "comparison": self.symbol}
        if mode == "eventually":
            figures = {"observed": None, "limit": None, "comparison": None}
        return self.result(status, summary, evidence, **figures)  # type: ignore[arg-type]

    def _never_exposed(self, timeline: Timeline) -> str | None:
        """Why the verdict is void when a metric it reads was never exposed, else None."""
        for ref in (self, self.per):
            if ref is None:
                continue
            if not timeline.snapshots(ref.service):
                return f"no scrape of {ref.service} answered, so {ref.metric} was never read"
            if not timeline.exposed(ref.service, ref.metric):
                similar = _similar(ref.metric, timeline.metric_names(ref.service))
                hint = f"; did you mean {', '.join(similar)}?" if similar else ""
                return f"{ref.service} never exposed a metric named {ref.metric}{hint}"
        return None

    def _increase_points(self, timeline: Timeline, start: float, end: float | None) -> list[Point]:
        series = timeline.counter_series(self.service, self.metric, **self.labels)
        numerator = cumulative(within(series, start, end), baseline(series, start))
        if self.per is None:
            return numerator
        per = self.per
        per_series = timeline.counter_series(per.service, per.metric, **per.labels)
        denominator = cumulative(within(per_series, start, end), baseline(per_series, start))
        return [_ratio(point, denominator) for point in numerator]


def _ratio(point: Point, denominator: Sequence[Point]) -> Point:
    below = [d.value for d in denominator if d.t <= point.t + 0.5]
    divisor = below[-1] if below else 0.0
    if divisor == 0:
        return Point(point.t, 0.0 if point.value == 0 else math.inf)
    return Point(point.t, point.value / divisor)


def _similar(name: str, known: Sequence[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, known, n=3, cutoff=0.6)
