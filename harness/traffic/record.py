"""One request as its client saw it: the unit every traffic assertion and report reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrafficRecord", "request_counts"]


@dataclass(frozen=True, slots=True)
class TrafficRecord:
    """One request a client made, as the client saw it.

    `name` is the request's declared name (what `traffic:` assertions select on); `data`
    holds whatever the traffic wants to keep about it for invariants and reports (an order
    id, the path it walked), never secrets. `expected` says whether the status was one the
    request declared (a 402 for a card meant to be declined is expected); None when the
    request declared none, and then any 2xx is `ok`.
    """

    name: str
    started_at: float
    latency: float
    status: int | None
    error: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    expected: bool | None = None

    @property
    def ok(self) -> bool:
        if self.status is None:
            return False
        if self.expected is not None:
            return self.expected
        return 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started_at": self.started_at,
            "latency": round(self.latency, 4),
            "status": self.status,
            "error": self.error,
            **({"expected": self.expected} if self.expected is not None else {}),
            **({"data": dict(self.data)} if self.data else {}),
        }


def request_counts(records: Sequence[TrafficRecord]) -> dict[str, dict[str, Any]]:
    """Per request name: `total`, `ok`, `error` and the count of each status (`none` for
    no answer). This is the "which paths did the traffic walk" block of journals."""
    counts: dict[str, dict[str, Any]] = {}
    for record in records:
        bucket = counts.setdefault(record.name, {"total": 0, "ok": 0, "error": 0, "statuses": {}})
        bucket["total"] += 1
        bucket["ok" if record.ok else "error"] += 1
        status = str(record.status) if record.status is not None else "none"
        bucket["statuses"][status] = bucket["statuses"].get(status, 0) + 1
    return {name: counts[name] for name in sorted(counts)}
