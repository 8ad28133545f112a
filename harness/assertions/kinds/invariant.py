"""`invariant:` an invariant checker reports no violation (of `rules`, if given) at some
point in the window: checked from `after` every `interval` until it holds or the window
ends. The checker follows the one contract of `harness.assertions.invariants`.

    - name: every order settled
      invariant: my_invariants.py:check_orders
      rules: [charged_once, stock_conserved]
      after: end
      within: 30s
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from harness.assertions.check import Check
from harness.assertions.engine import AssertionModel, EvaluationContext, register
from harness.assertions.probing import check_invariant
from harness.faults import Seconds

__all__ = ["InvariantAssertion"]


@register
class InvariantAssertion(AssertionModel):
    """The invariant checker reports no violation (of `rules`, if given) at some point in
    the window: checked from `after` every `interval` until it holds or the window ends."""

    keys: ClassVar[tuple[str, ...]] = ("invariant",)
    invariant: str
    rules: list[str] | None = None
    interval: Seconds = Field(default=1.0, gt=0)

    def describe(self) -> str:
        rules = f" ({', '.join(self.rules)})" if self.rules else ""
        return f"invariant {self.invariant}{rules} holds {self.describe_window()}"

    def evaluate(self, ctx: EvaluationContext) -> Check:
        return self.attempt_in_window(
            ctx,
            interval=self.interval,
            attempt=lambda probes: check_invariant(self.invariant, self.rules, probes),
            what="invariant checks",
        )
