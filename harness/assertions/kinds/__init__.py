"""The built-in assertion kinds, each in its own module; importing this registers them."""

from __future__ import annotations

from harness.assertions.kinds.breaker import BreakerAssertion
from harness.assertions.kinds.http import HttpAssertion
from harness.assertions.kinds.invariant import InvariantAssertion
from harness.assertions.kinds.metric import MetricAssertion, MetricRef
from harness.assertions.kinds.traffic import TrafficAssertion

__all__ = [
    "BreakerAssertion",
    "HttpAssertion",
    "InvariantAssertion",
    "MetricAssertion",
    "MetricRef",
    "TrafficAssertion",
]
