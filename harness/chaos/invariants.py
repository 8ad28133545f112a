"""Invariant checkers: what they return, and how an experiment names one.

A checker is a plain function `check(system, **context) -> InvariantReport` living in a
file next to the experiments (`shop_invariants.py:check_shop_invariants`) or in a module
(`mypkg.checks:check`). The runner passes only the context keywords the function accepts
(`initial_stock`, `seed`), so a checker declares what it needs.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "InvariantCheck",
    "InvariantError",
    "InvariantReport",
    "Violation",
    "call_invariant",
    "resolve_invariant",
]


class InvariantError(ValueError):
    """An invariant reference cannot be resolved to a callable."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken promise: which rule, for which order (when there is one), and why."""

    rule: str
    detail: str
    order_id: int | None = None

    def __str__(self) -> str:
        order = f"order {self.order_id}: " if self.order_id is not None else ""
        return f"[{self.rule}] {order}{self.detail}"

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


InvariantCheck = Callable[..., InvariantReport]


def resolve_invariant(reference: str, *, base_dir: Path | None = None) -> InvariantCheck:
    """`file.py:function` (relative to `base_dir`) or `package.module:function` -> callable."""
    module_ref, sep, attribute = reference.rpartition(":")
    if not sep or not module_ref or not attribute:
        raise InvariantError(
            f"invariant {reference!r}: expected 'file.py:function' or 'module:function'"
        )
    if module_ref.endswith(".py"):
        module = _module_from_file((base_dir or Path.cwd()) / module_ref, reference)
    else:
        try:
            module = importlib.import_module(module_ref)
        except ImportError as exc:
            raise InvariantError(f"invariant {reference!r}: cannot import: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise InvariantError(f"invariant {reference!r}: no function {attribute!r} in {module_ref}")
    return function  # type: ignore[no-any-return]


def _module_from_file(path: Path, reference: str) -> Any:
    path = path.resolve()
    if not path.is_file():
        raise InvariantError(f"invariant {reference!r}: no such file {path}")
    name = f"_harness_invariant_{path.stem}_{abs(hash(str(path)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvariantError(f"invariant {reference!r}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise InvariantError(f"invariant {reference!r}: {path} failed to import: {exc}") from exc
    return module


def call_invariant(
    check: InvariantCheck, system: object, context: Mapping[str, Any]
) -> InvariantReport:
    """Call a checker with the system and the context keywords it accepts."""
    parameters = inspect.signature(check).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in context.items() if accepts_any or k in parameters}
    report = check(system, **kwargs)
    if not isinstance(report, InvariantReport):
        raise InvariantError(
            f"invariant {getattr(check, '__name__', check)!r} returned "
            f"{type(report).__name__}, expected InvariantReport"
        )
    return report
