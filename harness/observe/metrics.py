"""Read Prometheus text metrics from a service: one scrape is one `MetricSnapshot`.

Chaos assertions, load timelines and reports all read the services' `/metrics` through
this module, so the parsing rules (counter `_total` names, label matching, summing over
series) live in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["MetricSnapshot", "MetricsError", "Sample", "merged", "parse_metrics", "scrape"]


class MetricsError(RuntimeError):
    """A service's metrics could not be fetched or parsed."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One series value: `name{labels} value`."""

    name: str
    labels: Mapping[str, str]
    value: float

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(self.labels.get(key) == str(want) for key, want in labels.items())


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    """Every sample a service exposed at one instant (`scraped_at`, a `time.time()` value)."""

    samples_by_name: Mapping[str, tuple[Sample, ...]]
    scraped_at: float = field(default_factory=time.time)
    source: str = ""
    #: metric names the service declared (`# TYPE`), with or without a sample yet: a
    #: labelled counter is declared before its first increment gives it a series.
    declared: frozenset[str] = frozenset()

    def exposes(self, name: str) -> bool:
        """True when `name` is a sample name of this scrape or a metric it declared."""
        return name in self.samples_by_name or name in self.declared

    def samples(self, name: str, **labels: str) -> list[Sample]:
        """Samples named `name` (exact sample name, e.g. `jobs_total`) matching `labels`."""
        return [s for s in self.samples_by_name.get(name, ()) if s.matches(labels)]

    def value(self, name: str, **labels: str) -> float | None:
        """Sum of the matching series, or None when no series matches.

        Summing lets a caller ask for `retries_total` of one dependency
        without naming every other label; NaN samples are ignored.
        """
        found = [s.value for s in self.samples(name, **labels) if not math.isnan(s.value)]
        return sum(found) if found else None

    def names(self) -> list[str]:
        return sorted(self.samples_by_name)


def parse_metrics(
    text: str, *, source: str = "", scraped_at: float | None = None
) -> MetricSnapshot:
    """Parse Prometheus text exposition format into a snapshot.

    Raises MetricsError naming the source when the text is not valid exposition format.
    """
    grouped: dict[str, list[Sample]] = {}
    declared: set[str] = set()
    try:
        for family in text_string_to_metric_families(text):
            declared.add(family.name)
            if family.type == "counter":
                declared.add(f"{family.name}_total")
            for raw in family.samples:
                sample = Sample(name=raw.name, labels=dict(raw.labels), value=float(raw.value))
                grouped.setdefault(sample.name, []).append(sample)
    except ValueError as exc:
        raise MetricsError(f"{source or 'metrics'}: not Prometheus text format: {exc}") from exc
    return MetricSnapshot(
        samples_by_name={name: tuple(samples) for name, samples in grouped.items()},
        scraped_at=time.time() if scraped_at is None else scraped_at,
        source=source,
        declared=frozenset(declared),
    )


def scrape(url: str, *, client: httpx.Client | None = None, timeout: float = 2.0) -> MetricSnapshot:
    """GET `url` (a service's `/metrics`) and parse it.

    Pass a shared `client` when scraping in a loop, to reuse connections.
    """
    try:
        if client is None:
            response = httpx.get(url, timeout=timeout)
        else:
            response = client.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise MetricsError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise MetricsError(f"{url}: HTTP {response.status_code}")
    return parse_metrics(response.text, source=url)


def merged(snapshots: Iterable[MetricSnapshot]) -> MetricSnapshot:
    """One snapshot holding the samples of several (e.g. every service of a system)."""
    grouped: dict[str, list[Sample]] = {}
    latest = 0.0
    for snapshot in snapshots:
        latest = max(latest, snapshot.scraped_at)
        for name, samples in snapshot.samples_by_name.items():
            grouped.setdefault(name, []).extend(samples)
    return MetricSnapshot(
        samples_by_name={name: tuple(samples) for name, samples in grouped.items()},
        scraped_at=latest or time.time(),
        source="merged",
    )
