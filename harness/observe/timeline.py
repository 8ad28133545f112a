"""A metrics timeline: every service's `/metrics`, scraped about once a second.

Chaos experiments and load runs both need to ask "what did the system look like over
time?" (was the breaker on orders->payments open during the fault window, how fast did
retries grow). `TimelineRecorder` scrapes in a background thread into a `Timeline`;
`Timeline` answers those questions as series of `Point`s, so assertions and plots read the
same data.

    with TimelineRecorder(metrics_urls(system)) as recorder:
        ...  # run load, inject faults
    timeline = recorder.timeline
    timeline.breaker_states()["orders->payments"]     # [Point(t, 0.0), Point(t, 1.0), ...]
    timeline.rate("orders", "shop_outbound_retries_total", dependency="payments")
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from types import TracebackType
from typing import Any, Protocol

import httpx

from harness.observe.metrics import MetricsError, MetricSnapshot, Sample, scrape

__all__ = [
    "BREAKER_STATE_METRIC",
    "BREAKER_STATE_NAMES",
    "Point",
    "ScrapeFailure",
    "Timeline",
    "TimelineRecorder",
    "edge_name",
    "metrics_urls",
]

log = logging.getLogger(__name__)

#: The gauge the reference system exposes per edge: 0 closed, 1 open, 2 half-open.
BREAKER_STATE_METRIC = "shop_breaker_state"
BREAKER_STATE_NAMES: Mapping[int, str] = {0: "closed", 1: "open", 2: "half_open"}


def edge_name(source: str, target: str) -> str:
    """The harness's name for an edge, e.g. `orders->payments`."""
    return f"{source}->{target}"


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a series at `t` (a `time.time()` value)."""

    t: float
    value: float


@dataclass(frozen=True, slots=True)
class ScrapeFailure:
    """A scrape that did not answer (service down, paused, garbage): a gap, not a crash."""

    service: str
    at: float
    error: str


class _HasServiceUrls(Protocol):
    """What `metrics_urls` needs of a running system (`harness.runtime.RunningSystem`)."""

    def url(self, service: str) -> str: ...

    @property
    def services(self) -> Mapping[str, Any]: ...


def metrics_urls(system: _HasServiceUrls, *, path: str = "/metrics") -> dict[str, str]:
    """`{service: its metrics URL}` for every service of a running system (direct, not proxied)."""
    return {name: system.url(name).rstrip("/") + path for name in system.services}


class Timeline:
    """Snapshots per service, in scrape order. Thread-safe to append to while being read."""

    def __init__(self, snapshots: Mapping[str, Iterable[MetricSnapshot]] | None = None) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[str, list[MetricSnapshot]] = {
            service: sorted(items, key=lambda s: s.scraped_at)
            for service, items in (snapshots or {}).items()
        }
        self._failures: list[ScrapeFailure] = []

    # -- recording ---------------------------------------------------------------------

    def add(self, service: str, snapshot: MetricSnapshot) -> None:
        with self._lock:
            self._snapshots.setdefault(service, []).append(snapshot)

    def add_failure(self, failure: ScrapeFailure) -> None:
        with self._lock:
            self._failures.append(failure)

    # -- reading -----------------------------------------------------------------------

    @property
    def services(self) -> list[str]:
        with self._lock:
            return sorted(self._snapshots)

    @property
    def failures(self) -> list[ScrapeFailure]:
        with self._lock:
            return list(self._failures)

    def snapshots(self, service: str) -> list[MetricSnapshot]:
        with self._lock:
            return list(self._snapshots.get(service, ()))

    def latest(self, service: str) -> MetricSnapshot | None:
        with self._lock:
            items = self._snapshots.get(service)
            return items[-1] if items else None

    def span(self) -> tuple[float, float] | None:
        """(first, last) scrape time over every service, or None when empty."""
        times = [s.scraped_at for svc in self.services for s in self.snapshots(svc)]
        return (min(times), max(times)) if times else None

    def window(self, start: float | None = None, end: float | None = None) -> Timeline:
        """A new timeline holding only the snapshots scraped in [start, end]."""
        return Timeline(
            {
                service: [s for s in self.snapshots(service) if _within(s.scraped_at, start, end)]
                for service in self.services
            }
        )

    def series(self, service: str, name: str, **labels: str) -> list[Point]:
        """Value of `name` (summed over series matching `labels`) at each scrape of `service`.

        Scrapes where no series matched are skipped (a gauge that does not exist yet).
        """
        points = []
        for snapshot in self.snapshots(service):
            value = snapshot.value(name, **labels)
            if value is not None:
                points.append(Point(snapshot.scraped_at, value))
        return points

    def counter_series(self, service: str, name: str, **labels: str) -> list[Point]:
        """Like `series`, but a counter with no series yet counts as 0 (labelled counters
        appear only after their first increment)."""
        return [
            Point(s.scraped_at, s.value(name, **labels) or 0.0) for s in self.snapshots(service)
        ]

    def rate(self, service: str, name: str, **labels: str) -> list[Point]:
        """Per-second rate of a counter between consecutive scrapes (at the later scrape).

        A drop in value is a counter reset (the service restarted): like Prometheus, the
        new value counts as the increase.
        """
        points = self.counter_series(service, name, **labels)
        rates = []
        for before, after in pairwise(points):
            elapsed = after.t - before.t
            if elapsed <= 0:
                continue
            rates.append(Point(after.t, _increase(before.value, after.value) / elapsed))
        return rates

    def increase(
        self,
        service: str,
        name: str,
        *,
        start: float | None = None,
        end: float | None = None,
        **labels: str,
    ) -> float:
        """How much a counter grew between the scrapes in [start, end] (resets handled)."""
        points = [
            p for p in self.counter_series(service, name, **labels) if _within(p.t, start, end)
        ]
        return sum(_increase(a.value, b.value) for a, b in pairwise(points))

    # -- breakers ----------------------------------------------------------------------

    def breaker_edges(self, *, metric: str = BREAKER_STATE_METRIC) -> list[str]:
        """Every edge (`source->dependency`) that ever exposed a breaker state."""
        edges = set()
        for service in self.services:
            for snapshot in self.snapshots(service):
                for sample in snapshot.samples(metric):
                    dependency = sample.labels.get("dependency")
                    if dependency:
                        edges.add(edge_name(sample.labels.get("service", service), dependency))
        return sorted(edges)

    def breaker_series(self, edge: str, *, metric: str = BREAKER_STATE_METRIC) -> list[Point]:
        """Breaker state of one edge over time (0 closed, 1 open, 2 half-open)."""
        source, target = _split_edge(edge)
        return self.series(source, metric, dependency=target)

    def breaker_states(self, *, metric: str = BREAKER_STATE_METRIC) -> dict[str, list[Point]]:
        """`{edge: breaker state series}` for every edge with a breaker."""
        return {edge: self.breaker_series(edge, metric=metric) for edge in self.breaker_edges()}

    def breaker_was(
        self,
        edge: str,
        state: int,
        *,
        start: float | None = None,
        end: float | None = None,
        metric: str = BREAKER_STATE_METRIC,
    ) -> bool:
        """True when any scrape in [start, end] saw the edge's breaker in `state`."""
        return any(
            p.value == state and _within(p.t, start, end)
            for p in self.breaker_series(edge, metric=metric)
        )

    def first_time(
        self,
        service: str,
        name: str,
        predicate: Callable[[float], bool],
        *,
        after: float | None = None,
        **labels: str,
    ) -> float | None:
        """Time of the first scrape (after `after`) where the value satisfies `predicate`."""
        for point in self.series(service, name, **labels):
            if (after is None or point.t >= after) and predicate(point.value):
                return point.t
        return None

    # -- export ------------------------------------------------------------------------

    def to_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON-ready samples per service (only metrics in `names`, when given)."""
        out: dict[str, Any] = {}
        for service in self.services:
            out[service] = [
                {
                    "t": snapshot.scraped_at,
                    "samples": [
                        {"name": s.name, "labels": dict(s.labels), "value": s.value}
                        for metric, samples in snapshot.samples_by_name.items()
                        if names is None or metric in names
                        for s in samples
                    ],
                }
                for snapshot in self.snapshots(service)
            ]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timeline:
        """The inverse of `to_dict` (e.g. a timeline saved next to a report)."""
        snapshots: dict[str, list[MetricSnapshot]] = {}
        for service, scrapes in data.items():
            for scrape_ in scrapes:
                grouped: dict[str, list[Sample]] = {}
                for raw in scrape_["samples"]:
                    sample = Sample(raw["name"], dict(raw["labels"]), float(raw["value"]))
                    grouped.setdefault(sample.name, []).append(sample)
                snapshots.setdefault(service, []).append(
                    MetricSnapshot(
                        samples_by_name={k: tuple(v) for k, v in grouped.items()},
                        scraped_at=float(scrape_["t"]),
                        source=service,
                    )
                )
        return cls(snapshots)


class TimelineRecorder:
    """Scrapes every service's metrics URL about every `interval` seconds in a thread.

    Services are scraped concurrently, so one paused or dead service does not delay the
    others' scrapes; its failures are recorded in `timeline.failures`.

    Args:
        targets: `{service: metrics URL}` (see `metrics_urls`).
        interval: seconds between scrape rounds (default 1.0).
        timeout: per-scrape timeout in seconds (default: the interval).
        client: an httpx client to use (default: one owned and closed by the recorder).
        timeline: the timeline to append to (default: a new one).
    """

    def __init__(
        self,
        targets: Mapping[str, str],
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        client: httpx.Client | None = None,
        timeline: Timeline | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.targets = dict(targets)
        self.interval = interval
        self.timeout = interval if timeout is None else timeout
        self.timeline = timeline if timeline is not None else Timeline()
        self._client = client
        self._owns_client = client is None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.rounds = 0

    def scrape_once(self) -> dict[str, MetricSnapshot]:
        """Scrape every target once now; record and return the snapshots that answered."""
        client = self._ensure_client()
        pool = self._ensure_pool()
        futures = {
            service: pool.submit(scrape, url, client=client, timeout=self.timeout)
            for service, url in self.targets.items()
        }
        got: dict[str, MetricSnapshot] = {}
        for service, future in futures.items():
            try:
                snapshot = future.result()
            except MetricsError as exc:
                self.timeline.add_failure(ScrapeFailure(service, time.time(), str(exc)))
                continue
            self.timeline.add(service, snapshot)
            got[service] = snapshot
        self.rounds += 1
        return got

    def start(self) -> TimelineRecorder:
        if self._thread is not None:
            raise RuntimeError("TimelineRecorder already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="metrics-timeline", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, final_scrape: bool = True) -> Timeline:
        """Stop the thread (and take one last scrape so the timeline covers the end)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + self.interval + 5.0)
            self._thread = None
            if final_scrape:
                self.scrape_once()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
        return self.timeline

    def __enter__(self) -> TimelineRecorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        # Fixed cadence from the start time, so slow scrapes do not make the timeline drift.
        started = time.monotonic()
        done = 0
        while not self._stop.is_set():
            try:
                self.scrape_once()
            except Exception:  # the recorder must outlive any one bad round
                log.exception("metrics timeline: scrape round failed")
            done += 1
            # A round slower than the interval skips the missed ticks rather than bunching.
            done = max(done, int((time.monotonic() - started) / self.interval))
            self._stop.wait(max(0.0, started + self.interval * done - time.monotonic()))

    def _ensure_client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client()
        return self._client

    def _ensure_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            workers = max(1, len(self.targets))
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scrape")
        return self._pool


def _increase(before: float, after: float) -> float:
    return after - before if after >= before else after


def _within(t: float, start: float | None, end: float | None) -> bool:
    return (start is None or t >= start) and (end is None or t <= end)


def _split_edge(edge: str) -> tuple[str, str]:
    source, sep, target = edge.partition("->")
    if not sep or not source.strip() or not target.strip():
        raise ValueError(f"edge must look like 'orders->payments', got {edge!r}")
    return source.strip(), target.strip()
