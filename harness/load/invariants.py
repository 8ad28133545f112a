"""Invariant checks named in a profile, run against the system after the load and faults.

A profile lists them as `"path/to/file.py:function"` (relative to the profile) or
`"package.module:function"` (resolved by `harness.assertions.invariants.resolve_invariant`). Each is
called with the running system and the context keywords it accepts (`initial_stock`); its
answer is read by the one contract chaos shares (`harness.assertions.invariants.
invariant_report`: a report, a list of violations, a flag, or an AssertionError). A failing
check is retried for a few seconds first (see `run_invariants`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from harness.assertions import Check
from harness.assertions.invariants import (
    InvariantCheck,
    InvariantError,
    invariant_report,
    resolve_invariant,
)

__all__ = ["run_invariants"]


def run_invariants(
    specs: Sequence[str],
    system: object,
    *,
    settle: float = 10.0,
    poll: float = 0.5,
    context: Mapping[str, Any] | None = None,
) -> list[Check]:
    """Run each invariant; a failing one is retried until it holds or `settle` s elapsed.

    Right after the load stops, work still in flight (an outbox event on its way, a
    compensation being retried) can break an invariant for a moment; what must hold is the
    state the system settles into. `context` holds keywords a checker may ask for
    (default none).
    """
    checks = []
    for spec in specs:
        name = f"invariants {spec.rpartition(':')[2]}"
        try:
            function = resolve_invariant(spec)
        except InvariantError as exc:
            checks.append(Check.judged(kind="invariant", name=name, passed=False, detail=str(exc)))
            continue
        deadline = time.monotonic() + settle
        check = _run(name, function, system, context)
        while not check.passed and time.monotonic() < deadline:
            time.sleep(poll)
            check = _run(name, function, system, context)
        checks.append(check)
    return checks


def _run(
    name: str, function: InvariantCheck, system: object, context: Mapping[str, Any] | None
) -> Check:
    try:
        report = invariant_report(function, system, context)
    except Exception as exc:  # a crashing checker is a failed check, reported, not a crash
        return Check.judged(
            kind="invariant",
            name=name,
            passed=False,
            detail=f"the check itself failed: {type(exc).__name__}: {exc}",
        )
    return Check.judged(
        kind="invariant",
        name=name,
        passed=report.ok,
        detail="all hold" if report.ok else report.summary().replace("\n", "; "),
        evidence=report.to_dict(),
    )
