"""A circuit breaker's state, read from its service's metrics as the topology's breaker
convention declares it (`[conventions.breaker]`: metric, labels, states)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from harness.observe.metrics import scrape
from harness.topology.conventions import BreakerConvention

__all__ = ["BreakerReading", "read_breaker"]


@dataclass(frozen=True, slots=True)
class BreakerReading:
    state: str  # a name of the convention's `states`, else the number as text
    value: float
    labels: dict[str, str]  # the labels that select the edge's series


def read_breaker(
    metrics_url: str,
    convention: BreakerConvention,
    source: str,
    target: str,
    *,
    client: httpx.Client | None = None,
) -> BreakerReading:
    """The state of `source`'s breaker towards `target`, scraped from `metrics_url`.

    A breaker that has never been used may not have exported its series yet: it reads as
    closed. Raises `MetricsError` when the metrics cannot be read."""
    labels = convention.labels_for(source, target)
    value = scrape(metrics_url, client=client).value(convention.metric, **labels)
    if value is None:
        value = convention.state_value("closed")
    return BreakerReading(state=convention.state_name(value), value=value, labels=labels)
