"""Traffic a run drives through a system while faults are on: requests declared in YAML
or a user's class (`harness.traffic.source` documents its protocol), paced and recorded
by `TrafficRun`; what each request looked like to its client is a `TrafficRecord`."""

from __future__ import annotations

from harness.traffic.declared import DeclaredTrafficSource
from harness.traffic.driver import TrafficRun, traffic_source
from harness.traffic.record import TrafficRecord, request_counts
from harness.traffic.source import (
    TrafficError,
    TrafficSource,
    TrafficSystem,
    WeightedDeck,
    request_rng,
    send,
)
from harness.traffic.spec import ClassTraffic, DeclaredTraffic, TrafficPacing, TrafficSpec

__all__ = [
    "ClassTraffic",
    "DeclaredTraffic",
    "DeclaredTrafficSource",
    "TrafficError",
    "TrafficPacing",
    "TrafficRecord",
    "TrafficRun",
    "TrafficSource",
    "TrafficSpec",
    "TrafficSystem",
    "WeightedDeck",
    "request_counts",
    "request_rng",
    "send",
    "traffic_source",
]
