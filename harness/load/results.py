"""What a Locust run produced, as typed data: per-request stats, errors and a per-second history.

The Locust side (`locust_plugin.py`) writes these models as JSON; the runner, SLO gate and
report read them back. Latencies are kept as Locust's response-time histograms
(`{rounded_ms: count}`), so percentiles over any window (a stage, a fault window, several
request names together) are exact, not averages of percentiles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "TOTAL",
    "ErrorStats",
    "HistoryTick",
    "LocustResult",
    "RequestStats",
    "TickEntry",
    "merge_histograms",
    "percentile",
    "request_key",
]

#: The name under which every request together is reported (SLO key `total`).
TOTAL = "total"

Histogram = dict[int, int]


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The response time (ms) that a share `q` (0..1) of requests finished within.

    Same rule as Locust's `calculate_response_time_percentile`; None for no requests.
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    allowed_above = int(total * q)
    processed = 0
    for response_time in sorted(histogram, reverse=True):
        processed += histogram[response_time]
        if total - processed <= allowed_above:
            return float(response_time)
    return 0.0


def request_key(method: str, name: str) -> str:
    """How a request is named in SLOs and reports: `GET /api/products`.

    A name that already starts with its method (or a request with no method) is kept as is.
    """
    if not method or name.startswith(f"{method} "):
        return name
    return f"{method} {name}"


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    merged: Counter[int] = Counter()
    for histogram in histograms:
        merged.update(histogram)
    return dict(merged)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestStats(_Model):
    """Final figures for one request name (Locust's `method` + `name`)."""

    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float
    min_ms: float
    max_ms: float
    histogram: Histogram = Field(description="{rounded response time ms: count}")

    @property
    def key(self) -> str:
        """`GET /api/products`, or the name alone when it already starts with the method."""
        return request_key(self.method, self.name)

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def percentile_ms(self, q: float) -> float | None:
        return percentile(self.histogram, q)

    def matches(self, selector: str) -> bool:
        """True when an SLO key (`GET /api/x`, `/api/x` or `total`) names this request."""
        return selector in (self.name, self.key)


class ErrorStats(_Model):
    method: str
    name: str
    error: str
    occurrences: int


class TickEntry(_Model):
    """One request name's activity during one history interval."""

    requests: int = 0
    failures: int = 0
    histogram: Histogram = Field(default_factory=dict)


class HistoryTick(_Model):
    """What happened between the previous tick and `t` (a `time.time()` value)."""

    t: float
    users: int
    entries: dict[str, TickEntry] = Field(description="keyed by RequestStats.key")

    def total(self) -> TickEntry:
        return TickEntry(
            requests=sum(e.requests for e in self.entries.values()),
            failures=sum(e.failures for e in self.entries.values()),
            histogram=merge_histograms(e.histogram for e in self.entries.values()),
        )


class LocustResult(_Model):
    """Everything the runner needs from one Locust run (master or standalone)."""

    started_at: float
    ended_at: float
    requests: list[RequestStats]
    errors: list[ErrorStats] = Field(default_factory=list)
    history: list[HistoryTick] = Field(default_factory=list)
    interval: float = 1.0
    user_classes: list[str] = Field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(self.ended_at - self.started_at, 1e-9)

    def select(self, selector: str) -> list[RequestStats]:
        """Stats of the requests an SLO key names (`total` selects every request)."""
        if selector == TOTAL:
            return list(self.requests)
        return [r for r in self.requests if r.matches(selector)]

    def combined(self, selector: str) -> RequestStats | None:
        """One RequestStats for everything `selector` names, or None when nothing matched."""
        chosen = self.select(selector)
        if not chosen:
            return None
        if len(chosen) == 1 and selector != TOTAL:
            return chosen[0]
        requests = sum(r.requests for r in chosen)
        return RequestStats(
            method="" if selector == TOTAL else chosen[0].method,
            name=selector,
            requests=requests,
            failures=sum(r.failures for r in chosen),
            avg_ms=sum(r.avg_ms * r.requests for r in chosen) / requests if requests else 0.0,
            min_ms=min(r.min_ms for r in chosen),
            max_ms=max(r.max_ms for r in chosen),
            histogram=merge_histograms(r.histogram for r in chosen),
        )

    def rps(self, selector: str) -> float:
        stats = self.combined(selector)
        return stats.requests / self.duration if stats else 0.0

    def window(self, start: float, end: float, selector: str = TOTAL) -> TickEntry:
        """Requests, failures and latency histogram of `selector` for ticks in (start, end]."""
        entries = [
            entry
            for tick in self.history
            if start < tick.t <= end
            for key, entry in tick.entries.items()
            if selector == TOTAL or _key_matches(key, selector)
        ]
        return TickEntry(
            requests=sum(e.requests for e in entries),
            failures=sum(e.failures for e in entries),
            histogram=merge_histograms(e.histogram for e in entries),
        )


def _key_matches(key: str, selector: str) -> bool:
    # History keys are RequestStats.key ("GET /api/x"); a selector may omit the method.
    return key == selector or key.split(" ", 1)[-1] == selector
