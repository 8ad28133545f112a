"""Read Prometheus text metrics from a service: one scrape is one `MetricSnapshot`.

Chaos assertions, load timelines and reports all read the services' `/metrics` through
this module, so the parsing rules (counter `_total` names, label matching, summing over
series) live in one place.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx

from harness import http_clients

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


_SAMPLE = re.compile(
    r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s*\{(?P<labels>.*)\}\s*|\s+)(?P<value>\S+)"
    r"(?:\s+-?\d+)?"
)
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), "\\" + m.group(1)), value)


def _labels(text: str, line: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    end = 0
    for match in _LABEL.finditer(text):
        if match.start() != end:
            break
        labels[match.group(1)] = _unescape(match.group(2))
        end = match.end()
    if end != len(text) and text[end:].strip():
        raise ValueError(f"bad labels in {line!r}")
    return labels


def parse_metrics(
    text: str, *, source: str = "", scraped_at: float | None = None
) -> MetricSnapshot:
    """Parse Prometheus text exposition format into a snapshot.

    By hand, line by line with two regular expressions: prometheus_client's parser reads
    label text a character at a time, about 70 ms of CPU for one scrape of a service with a
    few histograms, and a chaos run scrapes every service every second (tests check that
    both read the same samples). Raises MetricsError naming the source when the text is not
    valid exposition format.
    """
    grouped: dict[str, list[Sample]] = {}
    declared: set[str] = set()
    try:
        for raw_line in text.splitlines():
            line = raw_line.strip()
            if not line:
                continue
            if line[0] == "#":
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == "TYPE":
                    name = parts[2]
                    declared.add(name)
                    if parts[3].strip() == "counter":  # `x` and its sample name `x_total`
                        declared.add(name[: -len("_total")] if name.endswith("_total") else name)
                        declared.add(name if name.endswith("_total") else f"{name}_total")
                continue
            match = _SAMPLE.fullmatch(line)
            if match is None:
                raise ValueError(f"not a sample: {line!r}")
            labels = _labels(match.group("labels"), line) if match.group("labels") else {}
            name = match.group("name")
            grouped.setdefault(name, []).append(
                Sample(name=name, labels=labels, value=float(match.group("value")))
            )
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
            response = http_clients.get(url, timeout=timeout)
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
