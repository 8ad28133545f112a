"""The built-in assertion kinds, each in its own module; importing this registers them,
then every kind an installed package declares under the entry-point group
`harness.assertion_kinds` (`name = "package.module:KindClass"`), so experiment files and
load profiles can use it like a built-in one."""

from __future__ import annotations

from importlib.metadata import entry_points

from harness.assertions.engine import AssertionModel, register
from harness.assertions.kinds.amplification import AmplificationAssertion
from harness.assertions.kinds.breaker import BreakerAssertion
from harness.assertions.kinds.http import HttpAssertion
from harness.assertions.kinds.invariant import InvariantAssertion
from harness.assertions.kinds.metric import MetricAssertion, MetricRef
from harness.assertions.kinds.requests import RequestsAssertion
from harness.assertions.kinds.traffic import TrafficAssertion

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmplificationAssertion",
    "BreakerAssertion",
    "HttpAssertion",
    "InvariantAssertion",
    "MetricAssertion",
    "MetricRef",
    "RequestsAssertion",
    "TrafficAssertion",
    "register_installed_kinds",
]

ENTRY_POINT_GROUP = "harness.assertion_kinds"


def register_installed_kinds() -> list[type[AssertionModel]]:
    """Register the kinds installed packages declare; a broken one is an error naming it."""
    found = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        kind = entry.load()
        if not (isinstance(kind, type) and issubclass(kind, AssertionModel)):
            raise TypeError(
                f"entry point {entry.name} = {entry.value!r} ({ENTRY_POINT_GROUP}) is not an "
                "AssertionModel subclass"
            )
        found.append(register(kind))
    return found


register_installed_kinds()
