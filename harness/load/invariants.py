"""Invariant checks named in a profile, run against the system after the load and faults.

A profile lists them as `"path/to/file.py:function"` (relative to the profile) or
`"package.module:function"`. Each is called with the running system. It passes when it
returns None, True, an empty collection, or an object whose `ok`/`passed` is true; it fails
when it raises AssertionError, returns False or a non-empty collection (the violations), or
an object whose `ok`/`passed` is false (its `summary()` or `violations` are shown). A
failing check is retried for a few seconds first (see `run_invariants`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from harness.load.verdict import Check

__all__ = ["InvariantError", "load_invariant", "run_invariants"]


class InvariantError(ValueError):
    """An invariant named in a profile cannot be found."""


def load_invariant(spec: str) -> Callable[..., Any]:
    location, sep, function = spec.rpartition(":")
    if not sep or not location or not function:
        raise InvariantError(
            f"invariant {spec!r}: expected 'file.py:function' or 'module:function'"
        )
    module = _load_file(Path(location)) if location.endswith(".py") else _import(location)
    found = getattr(module, function, None)
    if not callable(found):
        raise InvariantError(f"invariant {spec!r}: {location} has no function {function!r}")
    return found  # type: ignore[no-any-return]


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise InvariantError(f"invariant module {name!r} cannot be imported: {exc}") from exc


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise InvariantError(f"invariant file {path} does not exist")
    name = f"_harness_invariants_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvariantError(f"invariant file {path} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_invariants(
    specs: Sequence[str], system: object, *, settle: float = 10.0, poll: float = 0.5
) -> list[Check]:
    """Run each invariant; a failing one is retried until it holds or `settle` s elapsed.

    Right after the load stops, work still in flight (an outbox event on its way, a
    compensation being retried) can break an invariant for a moment; what must hold is the
    state the system settles into.
    """
    checks = []
    for spec in specs:
        name = f"invariants {spec.rpartition(':')[2]}"
        try:
            function = load_invariant(spec)
        except InvariantError as exc:
            checks.append(Check(kind="invariant", name=name, passed=False, detail=str(exc)))
            continue
        deadline = time.monotonic() + settle
        check = _run(name, function, system)
        while not check.passed and time.monotonic() < deadline:
            time.sleep(poll)
            check = _run(name, function, system)
        checks.append(check)
    return checks


def _run(name: str, function: Callable[..., Any], system: object) -> Check:
    try:
        outcome = function(system)
    except AssertionError as exc:
        return Check(kind="invariant", name=name, passed=False, detail=str(exc) or "violated")
    except Exception as exc:  # a crashing checker is a failed check, reported, not a crash
        return Check(
            kind="invariant",
            name=name,
            passed=False,
            detail=f"the check itself failed: {type(exc).__name__}: {exc}",
        )
    passed, violations = _interpret(outcome)
    detail = "all hold" if passed else "; ".join(violations[:10]) or "violated"
    if len(violations) > 10:
        detail += f" (and {len(violations) - 10} more)"
    summary = getattr(outcome, "summary", None)
    if callable(summary):  # e.g. harness.chaos.invariants.InvariantReport
        detail = str(summary())
    return Check(kind="invariant", name=name, passed=passed, detail=detail)


def _interpret(outcome: Any) -> tuple[bool, list[str]]:
    if outcome is None or outcome is True:
        return True, []
    if outcome is False:
        return False, []
    for attribute in ("ok", "passed"):
        flag = getattr(outcome, attribute, None)
        if isinstance(flag, bool):
            violations = getattr(outcome, "violations", None) or []
            return flag, [str(v) for v in violations]
    if isinstance(outcome, Collection) and not isinstance(outcome, str):
        return not outcome, [str(v) for v in outcome]
    return bool(outcome), []
