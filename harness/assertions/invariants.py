"""Invariant checkers: how a reference names one, how it is called, what its answer means.

A checker is a plain function `check(system, **context)` living in a file
(`my_invariants.py:check_orders`, relative to a base directory) or in a module
(`mypkg.checks:check`). Callers pass only the context keywords the function accepts
(`initial_stock`, `seed`), so a checker declares what it needs.

One contract, for chaos and load alike (`invariant_report`): a checker answers with an
`InvariantReport`, or anything `judge` understands (None/True, a list of violations, an
object with `ok`/`passed`), or raises `AssertionError` (a violation, its message the
detail); every answer becomes an `InvariantReport`, whose rules an assertion can filter on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.references import resolve_function

__all__ = [
    "InvariantCheck",
    "InvariantError",
    "InvariantReport",
    "Judgement",
    "Violation",
    "accepts_keyword",
    "call_invariant",
    "invariant_report",
    "judge",
    "resolve_invariant",
]


class InvariantError(ValueError):
    """An invariant reference cannot be resolved to a callable, or its answer is unusable."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken promise: which rule, for which order (when there is one), and why."""

    rule: str
    detail: str
    order_id: int | None = None

    def __str__(self) -> str:
        rule = f"[{self.rule}] " if self.rule else ""
        order = f"order {self.order_id}: " if self.order_id is not None else ""
        return f"{rule}{order}{self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "order_id": self.order_id, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class InvariantReport:
    """Every violation found, what was examined, and state that could not be read."""

    violations: tuple[Violation, ...] = ()
    checked: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    def only(self, rules: Iterable[str] | None) -> InvariantReport:
        """The same report restricted to `rules` (all rules when None)."""
        if rules is None:
            return self
        wanted = set(rules)
        return InvariantReport(
            violations=tuple(v for v in self.violations if v.rule in wanted),
            checked=self.checked,
            errors=self.errors,
        )

    def by_rule(self) -> dict[str, list[Violation]]:
        grouped: dict[str, list[Violation]] = {}
        for violation in self.violations:
            grouped.setdefault(violation.rule, []).append(violation)
        return grouped

    def summary(self, *, limit: int = 10) -> str:
        if self.ok:
            examined = ", ".join(f"{n} {what}" for what, n in self.checked.items())
            return f"all invariants hold ({examined or 'nothing to check'})"
        lines = [f"cannot read state: {error}" for error in self.errors]
        lines += [str(v) for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"... and {len(self.violations) - limit} more")
        return "\n".join(lines)

    def to_dict(self, *, limit: int = 50) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": dict(self.checked),
            "errors": list(self.errors),
            "violation_count": len(self.violations),
            "violations": [v.to_dict() for v in self.violations[:limit]],
        }


InvariantCheck = Callable[..., Any]


def resolve_invariant(reference: str, *, base_dir: Path | None = None) -> InvariantCheck:
    """`file.py:function` (relative to `base_dir`, default the cwd) or
    `package.module:function` -> the function. Raises `InvariantError` saying what is wrong."""
    return resolve_function(reference, base_dir=base_dir, what="invariant", error=InvariantError)


def accepts_keyword(check: InvariantCheck, name: str) -> bool:
    """True when `check` takes the keyword `name` (or any keyword)."""
    parameters = inspect.signature(check).parameters
    parameter = parameters.get(name)
    if parameter is not None:
        return parameter.kind is not inspect.Parameter.POSITIONAL_ONLY
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def call_invariant(
    check: InvariantCheck, system: object, context: Mapping[str, Any] | None = None
) -> Any:
    """Call a checker with the system and the context keywords it accepts."""
    kwargs = {k: v for k, v in (context or {}).items() if accepts_keyword(check, k)}
    return check(system, **kwargs)


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a checker's answer says: whether the invariants hold, and a line on why."""

    passed: bool
    detail: str


_SHOWN = 10  # violations listed in a detail line; the rest are counted


def judge(outcome: Any) -> Judgement:
    """Read a checker's answer.

    It passes when it is None, True, an empty collection, or an object whose `ok`/`passed`
    is true; it fails when it is False, a non-empty collection (the violations), or an
    object whose `ok`/`passed` is false. An object's `summary()` (e.g. `InvariantReport`)
    is the detail; otherwise the violations are listed.
    """
    passed, violations = _pass_and_violations(outcome)
    detail = "all hold" if passed else "; ".join(violations[:_SHOWN]) or "violated"
    if len(violations) > _SHOWN:
        detail += f" (and {len(violations) - _SHOWN} more)"
    summary = getattr(outcome, "summary", None)
    if callable(summary):
        detail = str(summary())
    return Judgement(passed=passed, detail=detail)


def _pass_and_violations(outcome: Any) -> tuple[bool, list[str]]:
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


def invariant_report(
    check: InvariantCheck, system: object, context: Mapping[str, Any] | None = None
) -> InvariantReport:
    """Call a checker (with the context keywords it accepts) and read its answer as an
    `InvariantReport`: the one contract chaos and load share.

    An `AssertionError` the checker raises, or a violation given as text, is a violation
    with no rule; any other exception propagates (a crashing checker is the caller's to
    report).
    """
    try:
        outcome = call_invariant(check, system, context)
    except AssertionError as exc:
        return InvariantReport(violations=(Violation("", str(exc) or "violated"),))
    if isinstance(outcome, InvariantReport):
        return outcome
    passed, violations = _pass_and_violations(outcome)
    if passed:
        return InvariantReport()
    return InvariantReport(
        violations=tuple(Violation("", text) for text in violations)
        or (Violation("", judge(outcome).detail),)
    )
