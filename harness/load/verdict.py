"""Checks and the verdict: every SLO, assertion and invariant becomes one `Check` (the
assertion engine's result type, `harness.assertions.Check`).

A check carries the figure that was observed, the limit and by how much it missed, so the
report and the JSON summary can say "p95 of POST /api/orders was 412 ms, limit 250 ms:
missed by 162 ms (+65%)" instead of just "failed".
"""

from __future__ import annotations

from harness.assertions import Check, Comparison
from harness.load.profile import RequestSLO
from harness.load.results import TOTAL, LocustResult

__all__ = ["Check", "evaluate_slos"]

# (RequestSLO field, label in check names, how the observed figure must compare)
_OBJECTIVES: tuple[tuple[str, str, Comparison], ...] = (
    ("p50_ms", "p50", "<="),
    ("p95_ms", "p95", "<="),
    ("p99_ms", "p99", "<="),
    ("max_failure_ratio", "failure ratio", "<="),
    ("min_rps", "throughput", ">="),
    ("min_requests", "requests", ">="),
)
_QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}
_UNITS = {"p50_ms": "ms", "p95_ms": "ms", "p99_ms": "ms", "min_rps": "req/s"}


def evaluate_slos(slos: dict[str, RequestSLO], result: LocustResult) -> list[Check]:
    """One Check per objective of every SLO; a request name that never ran fails."""
    checks: list[Check] = []
    for selector, slo in slos.items():
        subject = "all requests" if selector == TOTAL else selector
        stats = result.combined(selector)
        for field, label, comparison in _OBJECTIVES:
            limit = getattr(slo, field)
            if limit is None:
                continue
            name = f"{label} of {subject}"
            if stats is None or stats.requests == 0:
                checks.append(
                    Check.judged(
                        kind="slo",
                        name=name,
                        passed=False,
                        limit=float(limit),
                        unit=_UNITS.get(field, ""),
                        comparison=comparison,
                        detail=f"no requests named {selector!r} were made; "
                        f"known: {', '.join(r.key for r in result.requests) or 'none'}",
                    )
                )
                continue
            if field in _QUANTILES:
                observed = stats.percentile_ms(_QUANTILES[field])
            elif field == "max_failure_ratio":
                observed = stats.failure_ratio
            elif field == "min_rps":
                observed = stats.requests / result.duration
            else:
                observed = float(stats.requests)
            checks.append(_compare(name, observed, float(limit), field, comparison))
    return checks


def _compare(
    name: str, observed: float | None, limit: float, field: str, comparison: Comparison
) -> Check:
    unit = _UNITS.get(field, "")
    value = 0.0 if observed is None else observed
    passed = value <= limit if comparison == "<=" else value >= limit
    shown, shown_limit = _fmt(value, field), _fmt(limit, field)
    if passed:
        detail = f"{name} was {shown}, limit {comparison} {shown_limit}"
    else:
        miss = abs(value - limit)
        relative = f" ({miss / limit:+.0%})" if limit else ""
        if comparison == ">=":
            relative = f" ({-miss / limit:+.0%})" if limit else ""
        detail = (
            f"{name} was {shown}, limit {comparison} {shown_limit}: "
            f"missed by {_fmt(miss, field)}{relative}"
        )
    return Check.judged(
        kind="slo",
        name=name,
        passed=passed,
        detail=detail,
        observed=value,
        limit=limit,
        unit=unit,
        comparison=comparison,
    )


def _fmt(value: float, field: str) -> str:
    if field == "max_failure_ratio":
        return f"{value:.2%}"
    if field == "min_requests":
        return f"{value:.0f}"
    if field == "min_rps":
        return f"{value:.1f} req/s"
    return f"{value:.0f} ms"
