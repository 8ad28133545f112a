"""One request as its client saw it: the unit every traffic assertion and report reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrafficRecord"]


@dataclass(frozen=True, slots=True)
class TrafficRecord:
    """One request a client made, as the client saw it.

    `name` is the request's declared name (what `traffic:` assertions select on); `data`
    holds whatever the traffic wants to keep about it for invariants and reports (an order
    id, the path it walked), never secrets.
    """

    name: str
    started_at: float
    latency: float
    status: int | None
    error: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started_at": self.started_at,
            "latency": round(self.latency, 4),
            "status": self.status,
            "error": self.error,
            **({"data": dict(self.data)} if self.data else {}),
        }
