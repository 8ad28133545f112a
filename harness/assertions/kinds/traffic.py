"""`request:` (or `traffic:`) what the run's traffic clients saw in a window.

- name: most orders still succeed
  request: checkout             # any request name the traffic declares; default any
  outcome: ok
  measure: ratio
  at_least: 0.5
  after: slow.start
  until: slow.end
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field

from harness.assertions.check import Check, CheckStatus
from harness.assertions.compare import Compared
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.series import percentile
from harness.traffic import TrafficRecord
from harness.traffic.spec import Statuses

__all__ = ["ANY_REQUEST", "TrafficAssertion"]

ANY_REQUEST = "any"
_LATENCY = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "max": 1.0}


@register
class TrafficAssertion(Compared, AssertionModel):
    """What the background traffic's clients saw in a window.

    `measure`: `count` of matching requests, `ratio` of matching among the requests named
    `request` (any name by default), or a latency (`p50`, `p95`, `p99`, `max`, in seconds)
    of matching requests. Matching = `outcome` (`ok`: 2xx, `error`: anything else, `any`)
    or explicit `status`.
    """

    keys: ClassVar[tuple[str, ...]] = ("request", "traffic")
    request: str = Field(
        default=ANY_REQUEST,
        min_length=1,
        validation_alias=AliasChoices("request", "traffic"),
        description="the request name to select (`traffic:` is accepted as an alias)",
    )
    outcome: Literal["ok", "error", "any"] = "any"
    status: Statuses | None = None
    measure: Literal["count", "ratio", "p50", "p95", "p99", "max"] = "count"

    @classmethod
    def kind_name(cls) -> str:
        return "traffic"

    def describe(self) -> str:
        matching = f"status {self.status}" if self.status is not None else self.outcome
        return (
            f"traffic {self.request} ({matching}) {self.measure} "
            f"{self.describe_comparison()} {self.describe_window()}"
        )

    def problems(self, scope: Scope) -> list[Problem]:
        if not scope.traffic:
            return [("", "a traffic assertion needs `method.traffic`")]
        return []

    def evaluate(self, ctx: EvaluationContext) -> Check:
        """Over requests that started in the window, once those started before the window's
        end have finished (`ctx.traffic.in_flight`, bounded by `settle`)."""
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        traffic, now, end = ctx.traffic, ctx.now, window.end
        waiting = end is not None and any(started <= end for started in traffic.in_flight)
        closed = end is not None and now > end and (not waiting or now > end + traffic.settle)
        if not (closed or ctx.final):
            return self.result("pending", "window open")
        chosen = [
            r
            for r in traffic.records
            if (self.request == ANY_REQUEST or r.name == self.request)
            and r.started_at >= window.start
            and (end is None or r.started_at <= end)
        ]
        matching = [r for r in chosen if self._matches(r)]
        evidence: dict[str, Any] = {
            "window": [ctx.anchors.offset(window.start), ctx.anchors.offset(end)],
            "requests": len(chosen),
            "matching": len(matching),
            "statuses": _status_counts(chosen),
        }
        what = self._what()
        bound = self.describe_comparison()
        unit = ""
        if self.measure == "count":
            value: float = len(matching)
        elif self.measure == "ratio":
            if not chosen:
                names = sorted({r.name for r in traffic.records})
                known = f" (request names seen: {', '.join(names)})" if names else ""
                return self.result(
                    "failed", f"no {self.request} requests in the window{known}", evidence
                )
            value = len(matching) / len(chosen)
        else:
            if not matching:
                return self.result("failed", f"no matching requests to measure {what}", evidence)
            value = percentile([r.latency for r in matching], _LATENCY[self.measure])
            unit = "s"
        evidence["value"] = value
        status: CheckStatus = "passed" if self.compare(value) else "failed"
        return self.result(
            status,
            f"{what} = {value:.3g}, expected {bound}",
            evidence,
            observed=value,
            limit=self.bound,
            unit=unit,
            comparison=self.symbol,
        )

    def _matches(self, record: TrafficRecord) -> bool:
        if self.status is not None:
            return record.status in self.status
        if self.outcome == "ok":
            return record.ok
        if self.outcome == "error":
            return not record.ok
        return True

    def _what(self) -> str:
        subject = "requests" if self.request == ANY_REQUEST else f"{self.request} requests"
        if self.status is not None:
            subject += f" with status {', '.join(map(str, self.status))}"
        elif self.outcome != "any":
            subject = f"{self.outcome} {subject}"
        measure = {"count": "count of", "ratio": "share of"}.get(
            self.measure, f"{self.measure} latency (s) of"
        )
        return f"{measure} {subject}"


def _status_counts(records: Sequence[TrafficRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = str(record.status) if record.status is not None else (record.error or "error")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
