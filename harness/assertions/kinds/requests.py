"""`requests:` no single request reached the provider of an edge more than `at_most`
times with one method and path: the proxy's request counts grouped by a header that carries
one value per request (`X-Request-ID`, `Idempotency-Key`) and by method and path (one
request may legitimately make several different calls), over the window. Requests without
the header are counted in the evidence but not judged.

    - name: a charge reaches payments at most once
      requests: orders->payments
      header: X-Request-ID
      method: POST
      path: ^/payments
      at_most: 1
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator

from harness.assertions.check import Check
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.proxycounts import EdgeCounts, ProxyCountsError, counts_ready, read_counts
from harness.topology import EdgeField

__all__ = ["RequestsAssertion"]


@register
class RequestsAssertion(AssertionModel):
    """No value of `header` reached the provider more than `at_most` times with one method
    and path in the window (only requests matching `method` and `path`, a regular expression
    searched in it)."""

    keys: ClassVar[tuple[str, ...]] = ("requests",)
    requests: EdgeField
    header: str = Field(min_length=1)
    method: str | None = None
    path: str | None = None
    at_most: int = Field(default=1, ge=1)

    _baselines: dict[int, EdgeCounts] = PrivateAttr(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _path_ok(cls, path: str | None) -> str | None:
        if path is not None:
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return path

    def describe(self) -> str:
        what = " ".join(part for part in (self.method, self.path) if part)
        selected = f" ({what})" if what else ""
        return (
            f"each {self.header} value reaches {self.requests.target} over {self.requests.name}"
            f"{selected} at most {self.at_most} time(s) per method and path "
            f"{self.describe_window()}"
        )

    def problems(self, scope: Scope) -> list[Problem]:
        problem = scope.edge_problem(self.requests)
        return [("requests", problem)] if problem else []

    def evaluate(self, ctx: EvaluationContext) -> Check:
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        key = id(ctx.anchors)
        edge = self.requests.name
        try:
            if key not in self._baselines:
                self._baselines[key] = read_counts(ctx, edge, header=self.header)
            if not counts_ready(ctx, window):
                return self.pending()
            counts = read_counts(ctx, edge, header=self.header).since(self._baselines.pop(key))
        except ProxyCountsError as exc:
            return self.result("failed", str(exc))
        return self._judge(counts)

    def _judge(self, counts: EdgeCounts) -> Check:
        per_call: Counter[tuple[str, str, str]] = Counter()
        unkeyed = 0
        for (method, path, value), count in counts.rows.items():
            if self.method and method.upper() != self.method.upper():
                continue
            if self.path and re.search(self.path, path) is None:
                continue
            if value is None:
                unkeyed += count
            else:
                per_call[(value, method, path)] += count
        worst = per_call.most_common(5)
        most = worst[0][1] if worst else 0
        over = sum(1 for count in per_call.values() if count > self.at_most)
        values = len({value for value, _, _ in per_call})
        evidence: dict[str, Any] = {
            "edge": self.requests.name,
            "header": self.header,
            "values": values,
            "requests": sum(per_call.values()),
            "without_header": unkeyed,
            "over_limit": over,
            "most_repeated": [
                {"value": value, "method": method, "path": path, "count": count}
                for (value, method, path), count in worst
            ],
        }
        summary = (
            f"{over} call(s) (one {self.header} value, method and path) reached "
            f"{self.requests.target} more than {self.at_most} time(s) (most: {most}"
            + (f", {worst[0][0][1]} {worst[0][0][2]}" if worst else "")
            + ")"
        )
        return self.result(
            "failed" if over else "passed",
            summary,
            evidence,
            observed=most,
            limit=self.at_most,
            comparison="<=",
        )
