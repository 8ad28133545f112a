"""Comparisons an assertion makes: exactly one of `equals`, `at_least`, `at_most`,
`above`, `below`; numbers may be durations (`500ms`) where they bound a latency."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from harness.assertions.check import Comparison
from harness.faults import parse_seconds

__all__ = ["COMPARISONS", "Compared", "Number"]

Number = Annotated[float, BeforeValidator(parse_seconds)]

#: key -> (symbol, test)
COMPARISONS: dict[str, tuple[Comparison, Callable[[float, float], bool]]] = {
    "equals": ("==", operator.eq),
    "at_least": (">=", operator.ge),
    "at_most": ("<=", operator.le),
    "above": (">", operator.gt),
    "below": ("<", operator.lt),
}


class Compared(BaseModel):
    """Exactly one of `equals`, `at_least`, `at_most`, `above`, `below`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    equals: Number | None = None
    at_least: Number | None = None
    at_most: Number | None = None
    above: Number | None = None
    below: Number | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Compared:
        given = [key for key in COMPARISONS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of equals, at_least, at_most, above, below"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def comparison(self) -> tuple[str, float]:
        for key in COMPARISONS:
            value = getattr(self, key)
            if value is not None:
                return key, float(value)
        raise ValueError("no comparison")

    @property
    def symbol(self) -> Comparison:
        return COMPARISONS[self.comparison[0]][0]

    @property
    def bound(self) -> float:
        return self.comparison[1]

    def compare(self, value: float) -> bool:
        op, bound = self.comparison
        return bool(COMPARISONS[op][1](value, bound))

    def describe_comparison(self) -> str:
        return f"{self.symbol} {self.bound:g}"

    @property
    def is_upper_bound(self) -> bool:
        """`at_most`/`below`/`equals 0`: a missing series would satisfy it vacuously."""
        op, bound = self.comparison
        return op in ("at_most", "below") or (op == "equals" and bound == 0)
