"""Invariant checkers as chaos experiments use them (`invariant: file.py:function`).

Re-exports `harness.assertions.invariants`: the one contract chaos and load share
(`invariant_report` reads any answer a checker gives as an `InvariantReport`).
"""

from __future__ import annotations

from harness.assertions.invariants import (
    InvariantCheck,
    InvariantError,
    InvariantReport,
    Violation,
    invariant_report,
    resolve_invariant,
)

__all__ = [
    "InvariantCheck",
    "InvariantError",
    "InvariantReport",
    "Violation",
    "invariant_report",
    "resolve_invariant",
]
