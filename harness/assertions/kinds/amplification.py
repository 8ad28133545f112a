"""`amplification:` requests at the provider of an edge per request at its caller stay
under a bound over the window: a retry storm shows as a ratio above 1. Requests at the
provider come from the edge's proxy counts; requests at the caller from the proxies of the
edges `per` names (the edges into the caller), or, with `per: traffic`, from the traffic's
own requests (the caller is where the traffic enters).

    - name: orders sends payments at most 3 requests per order
      amplification: orders->payments
      per: [gateway->orders]
      at_most: 3
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import PrivateAttr, field_validator

from harness.assertions.check import Check
from harness.assertions.compare import Compared
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.proxycounts import EdgeCounts, ProxyCountsError, counts_ready, read_counts
from harness.topology import Edge, EdgeField

__all__ = ["AmplificationAssertion"]

TRAFFIC = "traffic"


@register
class AmplificationAssertion(Compared, AssertionModel):
    """Requests forwarded on `amplification` per request at its caller, compared."""

    keys: ClassVar[tuple[str, ...]] = ("amplification",)
    amplification: EdgeField
    # The edges into the caller; empty (`per: traffic`): the traffic's own requests.
    per: tuple[EdgeField, ...] = ()

    _baselines: dict[int, dict[str, EdgeCounts]] = PrivateAttr(default_factory=dict)

    @field_validator("per", mode="before")
    @classmethod
    def _per_list(cls, value: Any) -> Any:
        if value == TRAFFIC:
            return ()
        return [value] if isinstance(value, str) else value

    def describe(self) -> str:
        per = (
            "traffic request"
            if not self.per
            else "request on " + ", ".join(edge.name for edge in self.per)
        )
        return (
            f"requests on {self.amplification.name} per {per} "
            f"{self.describe_comparison()} {self.describe_window()}"
        )

    def problems(self, scope: Scope) -> list[Problem]:
        problems: list[Problem] = []
        edge_problem = scope.edge_problem(self.amplification)
        if edge_problem:
            problems.append(("amplification", edge_problem))
        if not self.per:
            if not scope.traffic:
                problems.append(("per", "`per: traffic` needs `method.traffic`"))
            return problems
        for edge in self.per:
            problem = scope.edge_problem(edge)
            if problem:
                problems.append(("per", problem))
            elif edge.target != self.amplification.source:
                problems.append(
                    ("per", f"{edge.name} does not lead into {self.amplification.source}")
                )
        return problems

    def _edges(self) -> list[Edge]:
        return [self.amplification, *self.per]

    def evaluate(self, ctx: EvaluationContext) -> Check:
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        key = id(ctx.anchors)
        try:
            if key not in self._baselines:
                self._baselines[key] = {e.name: read_counts(ctx, e.name) for e in self._edges()}
            if not counts_ready(ctx, window):
                return self.pending()
            baseline = self._baselines.pop(key)
            totals = {
                e.name: read_counts(ctx, e.name).since(baseline[e.name]).total
                for e in self._edges()
            }
        except ProxyCountsError as exc:
            return self.result("failed", str(exc))
        at_provider = totals[self.amplification.name]
        if not self.per:
            end = window.end
            at_caller = sum(
                1
                for r in ctx.traffic.records
                if r.started_at >= window.start and (end is None or r.started_at <= end)
            )
        else:
            at_caller = sum(totals[e.name] for e in self.per)
        evidence = {
            "edge": self.amplification.name,
            "at_provider": at_provider,
            "at_caller": at_caller,
            "per_edge": totals,
        }
        if at_caller == 0:
            return self.result(
                "passed" if at_provider == 0 else "failed",
                f"{at_provider} request(s) at the provider, none at the caller",
                evidence,
            )
        ratio = at_provider / at_caller
        return self.result(
            "passed" if self.compare(ratio) else "failed",
            f"{at_provider} request(s) on {self.amplification.name} for {at_caller} at the "
            f"caller: {ratio:.2f} per request, expected {self.describe_comparison()}",
            evidence,
            observed=round(ratio, 3),
            limit=self.bound,
            comparison=self.symbol,
        )
