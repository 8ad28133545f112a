"""Invariant checkers as chaos experiments use them (`invariant: file.py:function`).

Resolving a reference, calling a checker with the context keywords it accepts and the
report types live in `harness.assertions.invariants`, shared with the load layer; they
are re-exported here. Chaos asks more of a checker than load does: it must answer with an
`InvariantReport`, whose rules an assertion can filter on (`rules:`) and whose contents go
into the journal as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.assertions.invariants import (
    InvariantCheck,
    InvariantError,
    InvariantReport,
    Violation,
    call_invariant,
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


def invariant_report(
    check: InvariantCheck, system: object, context: Mapping[str, Any]
) -> InvariantReport:
    """Call a checker with the system and the context keywords it accepts; its answer must
    be an `InvariantReport` (else `InvariantError`)."""
    report = call_invariant(check, system, context)
    if not isinstance(report, InvariantReport):
        raise InvariantError(
            f"invariant {getattr(check, '__name__', check)!r} returned "
            f"{type(report).__name__}, expected InvariantReport"
        )
    return report
