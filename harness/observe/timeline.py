"""A metrics timeline: every service's `/metrics`, scraped about once a second.

Chaos experiments and load runs both need to ask "what did the system look like over
time?" (was the breaker on orders->payments open during the fault window, how fast did
retries grow). `TimelineRecorder` scrapes in a background thread into a `Timeline`;
`Timeline` answers those questions as series of `Point`s, so assertions and plots read the
same data.

    with TimelineRecorder(metrics_urls(system)) as recorder:
        ...  # run load, inject faults
    timeline = recorder.timeline
    timeline.series("orders", "retries_total", dependency="payments")  # [Point(t, v), ...]
    timeline.breaker_states()["orders->payments"]  # read as the topology's breaker convention
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
from typing import Any

import httpx

from harness import http_clients
from harness.observe.metrics import MetricsError, MetricSnapshot, Sample, scrape
from harness.system import SystemView
from harness.topology import BreakerConvention, Edge, Topology

__all__ = [
    "Point",
    "ScrapeFailure",
    "Timeline",
    "TimelineRecorder",
    "breakers_of",
    "edge_name",
    "kept_metric_names",
    "metrics_urls",
]

log = logging.getLogger(__name__)


def edge_name(source: str, target: str) -> str:
    """The harness's name for an edge, e.g. `orders->payments`."""
    return Edge(source, target).name


def breakers_of(topology: Topology) -> dict[Edge, BreakerConvention]:
    """`{edge: breaker convention of its source}` for every edge whose source declares one."""
    found = {}
    for spec in topology.edges:
        convention = topology.conventions_for(spec.source).breaker
        if convention is not None:
            found[spec.edge] = convention
    return found


def kept_metric_names(topology: Topology | None, extra: Iterable[str] = ()) -> list[str]:
    """What a saved timeline keeps: the metric names of every breaker convention and the
    names assertions and plots ask for (`extra`), whatever they are called."""
    names = set(extra)
    if topology is not None:
        for convention in breakers_of(topology).values():
            names.add(convention.metric)
            if convention.transitions:
                names.add(convention.transitions)
    return sorted(names)


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


def metrics_urls(system: SystemView, *, path: str = "/metrics") -> dict[str, str]:
    """`{service: its metrics URL}` for every service of a running system (direct, not
    proxied): the path its topology's `metrics` convention declares (a service declaring
    none is not scraped), or `path` when the system carries no topology."""
    topology = getattr(system, "topology", None)
    urls = {}
    for name in system.services:
        chosen = topology.conventions_for(name).metrics if topology is not None else path
        if chosen:
            urls[name] = system.url(name).rstrip("/") + chosen
    return urls


class Timeline:
    """Snapshots per service, in scrape order. Thread-safe to append to while being read."""

    def __init__(
        self,
        snapshots: Mapping[str, Iterable[MetricSnapshot]] | None = None,
        *,
        breakers: Mapping[Edge, BreakerConvention] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[Edge, BreakerConvention] = dict(breakers or {})
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
            },
            breakers=self._breakers,
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

    # -- what services exposed ---------------------------------------------------------

    def exposed(self, service: str, name: str) -> bool:
        """True when any scrape of `service` had a series of `name` or declared it."""
        return any(snapshot.exposes(name) for snapshot in self.snapshots(service))

    def metric_names(self, service: str) -> list[str]:
        """Every sample name `service` exposed in any scrape."""
        names: set[str] = set()
        for snapshot in self.snapshots(service):
            names.update(snapshot.samples_by_name)
        return sorted(names)

    def label_sets(self, service: str, name: str) -> set[str]:
        """The label sets of `name`'s series (`{dependency="payments"}`), for messages."""
        found: set[str] = set()
        for snapshot in self.snapshots(service):
            for sample in snapshot.samples(name):
                inner = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                found.add(f"{{{inner}}}")
        return found

    # -- breakers (read as each edge's source declares in its breaker convention) -------

    @property
    def breakers(self) -> Mapping[Edge, BreakerConvention]:
        return dict(self._breakers)

    def breaker_edges(self) -> list[str]:
        """Every edge with a breaker convention whose state was ever scraped."""
        return sorted(edge.name for edge in self._breakers if self._breaker_points(edge))

    def breaker_series(self, edge: str | Edge) -> list[Point]:
        """The breaker state of one edge over time (the convention's state values); empty
        when the edge's source declares no breaker convention."""
        return self._breaker_points(edge if isinstance(edge, Edge) else Edge.parse(edge))

    def breaker_states(self) -> dict[str, list[Point]]:
        """`{edge: breaker state series}` for every edge whose breaker state was scraped."""
        states = {edge.name: self._breaker_points(edge) for edge in self._breakers}
        return {name: points for name, points in sorted(states.items()) if points}

    def breaker_state_names(self) -> dict[float, str]:
        """`{value: state name}` over every breaker convention (for legends)."""
        names: dict[float, str] = {}
        for convention in self._breakers.values():
            for name, value in convention.states.items():
                names.setdefault(value, name)
        return dict(sorted(names.items()))

    def breaker_state_name(self, edge: str | Edge, value: float) -> str:
        key = edge if isinstance(edge, Edge) else Edge.parse(edge)
        convention = self._breakers.get(key)
        return convention.state_name(value) if convention is not None else f"{value:g}"

    def latest_breaker_states(self) -> dict[str, str]:
        """`{edge: state name}` from the last scrape that showed each edge's breaker."""
        return {
            edge: self.breaker_state_name(edge, points[-1].value)
            for edge, points in self.breaker_states().items()
        }

    def breaker_was(
        self,
        edge: str,
        state: float | str,
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> bool:
        """True when any scrape in [start, end] saw the edge's breaker in `state` (a
        value, or a state name of its convention)."""
        key = Edge.parse(edge)
        if isinstance(state, str):
            convention = self._breakers.get(key)
            if convention is None:
                return False
            state = convention.state_value(state)
        return any(p.value == state and _within(p.t, start, end) for p in self._breaker_points(key))

    def _breaker_points(self, edge: Edge) -> list[Point]:
        convention = self._breakers.get(edge)
        if convention is None:
            return []
        labels = convention.labels_for(edge.source, edge.target)
        return self.series(edge.source, convention.metric, **labels)

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
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        breakers: Mapping[Edge, BreakerConvention] | None = None,
    ) -> Timeline:
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
        return cls(snapshots, breakers=breakers)


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
            self._client = http_clients.client()
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
