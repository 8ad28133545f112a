"""`Check`: the one result type of every judgement the harness makes.

A chaos assertion, a load SLO, a breaker shorthand of a load profile, an invariant and a
run-level problem all end as a `Check`; the chaos journal, the chaos and load reports and
the pipeline render it. It carries the figure observed, the limit and by how much it was
missed, so a report says "p95 of POST /api/orders was 412 ms, limit 250 ms: missed by
162 ms (+65%)" instead of just "failed", and the evidence the verdict was read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

__all__ = ["Check", "CheckStatus", "Comparison"]

CheckStatus = Literal["pending", "passed", "failed", "skipped"]
Comparison = Literal["<=", ">=", "==", "<", ">"]


class Check(BaseModel):
    """One pass/fail line: what was checked, its status, why, and the evidence.

    Args:
        name: the check's name (an assertion's `name`, `p95 of POST /api/orders`, ...).
        kind: what kind of check (`breaker`, `metric`, `traffic`, `http`, `invariant`,
            `slo`, `run`, ...).
        status: `pending` while a window is open and nothing decided it; `skipped` when the
            run stopped before judging it.
        summary: one line on why (the value seen, against what bound).
        expectation: the expectation in words (`breaker orders->payments becomes open
            within 8s of slow.start`).
        evidence: what the verdict was read from (values, times, counts), for the journal.
        observed, limit, unit, comparison: the figure compared, when there is one.
        resolved_at: seconds from the run's origin at which the status was decided.
        attempts: how many times an active check (HTTP, invariant) was tried.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    status: CheckStatus = "pending"
    summary: str = ""
    expectation: str = ""
    evidence: Mapping[str, Any] = Field(default_factory=dict)
    observed: float | None = None
    limit: float | None = None
    unit: str = ""
    comparison: Comparison | None = None
    resolved_at: float | None = None
    attempts: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_passed_and_detail(cls, data: Any) -> Any:
        """`passed=` and `detail=` (the shapes JSON summaries hold) map to status/summary."""
        if isinstance(data, Mapping) and ("passed" in data or "detail" in data):
            data = dict(data)
            passed = data.pop("passed", None)
            detail = data.pop("detail", None)
            if passed is not None and "status" not in data:
                data["status"] = "passed" if passed else "failed"
            if detail is not None and "summary" not in data:
                data["summary"] = detail
        return data

    @classmethod
    def judged(cls, *, kind: str, name: str, passed: bool, detail: str, **fields: Any) -> Check:
        """A resolved check from a pass/fail flag and its one-line reason."""
        return cls(
            kind=kind,
            name=name,
            status="passed" if passed else "failed",
            summary=detail,
            **fields,
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def detail(self) -> str:
        """The summary line (the name load reports and the pipeline use)."""
        return self.summary

    @property
    def resolved(self) -> bool:
        return self.status != "pending"

    @property
    def miss(self) -> float | None:
        """How far past the limit the observed figure was (positive), when it failed."""
        if self.passed or self.observed is None or self.limit is None:
            return None
        return abs(self.observed - self.limit)

    @property
    def miss_ratio(self) -> float | None:
        if self.miss is None or not self.limit:
            return None
        return self.miss / self.limit

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the journal's shape)."""
        return self.model_dump(mode="json")
