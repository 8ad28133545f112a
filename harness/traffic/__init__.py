"""Traffic a run drives through a system while faults are on: what each request looked like
to its client (`TrafficRecord`), whatever produced it."""

from __future__ import annotations

from harness.traffic.record import TrafficRecord

__all__ = ["TrafficRecord"]
