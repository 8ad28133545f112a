"""What the fault proxy of an edge forwarded during a window, for the `requests` and
`amplification` kinds: counting is switched on when the window opens (the first judgement
in it), a snapshot is taken then, and the difference is read once the window has closed and
the traffic that started in it has finished.

Only requests the proxy forwarded to the provider are counted (an `http_error` toxic's
answers are not): "requests at the provider". Needs the embedded fault proxy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.assertions.engine import EvaluationContext
from harness.assertions.window import Window

__all__ = ["EdgeCounts", "ProxyCountsError", "counts_ready", "read_counts"]


class ProxyCountsError(RuntimeError):
    """The running system cannot count the requests of an edge (no fault proxy that can)."""


@dataclass(frozen=True, slots=True)
class EdgeCounts:
    """Requests an edge's proxy forwarded: in total, and per (method, path, header value)."""

    total: int
    rows: Counter[tuple[str, str, str | None]]

    def since(self, baseline: EdgeCounts) -> EdgeCounts:
        rows = Counter(self.rows)
        rows.subtract(baseline.rows)
        return EdgeCounts(self.total - baseline.total, +rows)


def read_counts(ctx: EvaluationContext, edge: str, *, header: str | None = None) -> EdgeCounts:
    """The edge's counts now, switching counting on first (idempotent)."""
    faults: Any = getattr(ctx.probes.system, "faults", None) if ctx.probes is not None else None
    if faults is None:
        raise ProxyCountsError("request counts need a running system with a fault proxy")
    try:
        faults.count_requests(edge)
        counts = faults.request_counts(edge, header=header)
    except Exception as exc:  # the proxy's own error names the server and the proxy
        raise ProxyCountsError(f"cannot count the requests of {edge}: {exc}") from exc
    rows: Counter[tuple[str, str, str | None]] = Counter()
    for row in counts.counts:
        rows[(row.method, row.path, row.value)] += row.count
    return EdgeCounts(counts.total, rows)


def counts_ready(ctx: EvaluationContext, window: Window) -> bool:
    """The window has closed and the traffic that started in it has finished (or its
    timeout passed), so the provider has seen every request it will see."""
    end = window.end
    if ctx.final:
        return True
    if end is None or ctx.now <= end + ctx.grace:
        return False
    waiting = any(started <= end for started in ctx.traffic.in_flight)
    return not waiting or ctx.now > end + ctx.traffic.settle
