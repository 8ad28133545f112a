"""The toxic registry: one module per toxic type, as in the real server's `toxics/`, plus
the HTTP toxics (`http_error`, `http_drop`, `http_delay`) that only the embedded proxy has."""

from __future__ import annotations

from harness.faultproxy.toxics.bandwidth import BandwidthToxic
from harness.faultproxy.toxics.base import BadAttribute, Toxic
from harness.faultproxy.toxics.http_base import HttpToxic
from harness.faultproxy.toxics.http_delay import HttpDelayToxic
from harness.faultproxy.toxics.http_drop import HttpDropToxic
from harness.faultproxy.toxics.http_error import HttpErrorToxic
from harness.faultproxy.toxics.latency import LatencyToxic
from harness.faultproxy.toxics.limit_data import LimitDataToxic
from harness.faultproxy.toxics.noop import NOOP, NoopToxic
from harness.faultproxy.toxics.reset_peer import ResetPeerToxic
from harness.faultproxy.toxics.slicer import SlicerToxic
from harness.faultproxy.toxics.slow_close import SlowCloseToxic
from harness.faultproxy.toxics.timeout import TimeoutToxic

__all__ = [
    "NOOP",
    "TOXICS",
    "BadAttribute",
    "HttpDelayToxic",
    "HttpDropToxic",
    "HttpErrorToxic",
    "HttpToxic",
    "Toxic",
]

# In the order of the real server's documentation, then the HTTP toxics.
TOXICS: dict[str, type[Toxic]] = {
    cls.TYPE: cls
    for cls in (
        LatencyToxic,
        BandwidthToxic,
        SlowCloseToxic,
        TimeoutToxic,
        ResetPeerToxic,
        SlicerToxic,
        LimitDataToxic,
        NoopToxic,
        HttpErrorToxic,
        HttpDropToxic,
        HttpDelayToxic,
    )
}
