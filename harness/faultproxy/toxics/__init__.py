"""The toxic registry: one module per toxic type, as in the real server's `toxics/`."""

from __future__ import annotations

from harness.faultproxy.toxics.bandwidth import BandwidthToxic
from harness.faultproxy.toxics.base import Toxic
from harness.faultproxy.toxics.latency import LatencyToxic
from harness.faultproxy.toxics.limit_data import LimitDataToxic
from harness.faultproxy.toxics.noop import NOOP, NoopToxic
from harness.faultproxy.toxics.reset_peer import ResetPeerToxic
from harness.faultproxy.toxics.slicer import SlicerToxic
from harness.faultproxy.toxics.slow_close import SlowCloseToxic
from harness.faultproxy.toxics.timeout import TimeoutToxic

__all__ = ["NOOP", "TOXICS", "Toxic"]

TOXICS: dict[str, type[Toxic]] = {
    cls.TYPE: cls
    for cls in (
        BandwidthToxic,
        LatencyToxic,
        LimitDataToxic,
        NoopToxic,
        ResetPeerToxic,
        SlicerToxic,
        SlowCloseToxic,
        TimeoutToxic,
    )
}
