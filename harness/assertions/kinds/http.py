"""`http:` a request that must succeed at some point in the window, retried every
`interval` (an active check: it runs while the window is open).

    - name: orders answers again after the restart
      http: {service: orders, path: /health}
      status: 200
      after: kill.end
      within: 20s
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from harness.assertions.check import Check
from harness.assertions.engine import (
    AssertionModel,
    EvaluationContext,
    Problem,
    Scope,
    register,
)
from harness.assertions.probing import HttpExpectation, check_http
from harness.faults import Seconds

__all__ = ["HttpAssertion"]


@register
class HttpAssertion(HttpExpectation, AssertionModel):
    """A request that must succeed at some point in the window (retried every `interval`)."""

    keys: ClassVar[tuple[str, ...]] = ("http",)
    interval: Seconds = Field(default=1.0, gt=0)

    def describe(self) -> str:
        request = self.http
        return (
            f"{request.method} {request.service}{request.path} answers "
            f"{'/'.join(map(str, self.status))} {self.describe_window()}"
        )

    def problems(self, scope: Scope) -> list[Problem]:
        problem = scope.service_problem(self.http.service)
        return [("http.service", problem)] if problem else []

    def evaluate(self, ctx: EvaluationContext) -> Check:
        return self.attempt_in_window(
            ctx,
            interval=self.interval,
            attempt=lambda probes: check_http(self, probes),
            what="HTTP checks",
        )
