"""One assertion engine for chaos experiments and load runs.

- `window`: anchors, offsets, windows; fault windows from the executor's recorded events.
- `engine`: the registry of kinds, the evaluation context, `evaluate`.
- `kinds/`: one module per kind (breaker, metric, traffic, http, invariant).
- `check`: `Check`, the one result type journals, reports and the pipeline render.
- `invariants`: the one contract for invariant checkers.
"""

from __future__ import annotations

from harness.assertions.check import Check, CheckStatus, Comparison
from harness.assertions.engine import (
    ActiveChecks,
    AssertionModel,
    EvaluationContext,
    Scope,
    TrafficView,
    assertion_type,
    conventions_of,
    evaluate,
    parse_assertion,
    register,
    registered_kinds,
)
from harness.assertions.kinds import (
    BreakerAssertion,
    HttpAssertion,
    InvariantAssertion,
    MetricAssertion,
    MetricRef,
    TrafficAssertion,
)
from harness.assertions.window import Anchor, Anchors, FaultWindow, Window, fault_windows

__all__ = [
    "ActiveChecks",
    "Anchor",
    "Anchors",
    "AssertionModel",
    "BreakerAssertion",
    "Check",
    "CheckStatus",
    "Comparison",
    "EvaluationContext",
    "FaultWindow",
    "HttpAssertion",
    "InvariantAssertion",
    "MetricAssertion",
    "MetricRef",
    "Scope",
    "TrafficAssertion",
    "TrafficView",
    "Window",
    "assertion_type",
    "conventions_of",
    "evaluate",
    "fault_windows",
    "parse_assertion",
    "register",
    "registered_kinds",
]
