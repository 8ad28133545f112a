"""Faults on a running system: the one Toxiproxy-API client (`injector`), the timed
fault model (`schedule`) and its executor with guaranteed rollback (`executor`).
"""

from __future__ import annotations

from harness.faults.executor import (
    Clock,
    FaultInjectorLike,
    FaultScheduleExecutor,
    FaultTarget,
    MonotonicClock,
    TimelineEvent,
)
from harness.faults.injector import (
    DEFAULT_TIMEOUT,
    TOXIPROXY_URL_ENV,
    FaultInjector,
    FaultProxyError,
    FaultProxyUnavailable,
    FaultRejected,
    FaultTargetExists,
    FaultTargetNotFound,
    ToxiproxyClient,
    UnknownEdgeError,
    toxiproxy_url_from_env,
)
from harness.faults.schedule import (
    EDGE_TOXICS,
    FAULT_TAGS,
    PARTITION,
    EdgeFault,
    FaultScheduleError,
    FaultSpec,
    ProcessFault,
    Repeat,
    Seconds,
    check_targets,
    describe_validation_error,
    parse_fault_schedule,
    parse_seconds,
    schedule_end,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "EDGE_TOXICS",
    "FAULT_TAGS",
    "PARTITION",
    "TOXIPROXY_URL_ENV",
    "Clock",
    "EdgeFault",
    "FaultInjector",
    "FaultInjectorLike",
    "FaultProxyError",
    "FaultProxyUnavailable",
    "FaultRejected",
    "FaultScheduleError",
    "FaultScheduleExecutor",
    "FaultSpec",
    "FaultTarget",
    "FaultTargetExists",
    "FaultTargetNotFound",
    "MonotonicClock",
    "ProcessFault",
    "Repeat",
    "Seconds",
    "TimelineEvent",
    "ToxiproxyClient",
    "UnknownEdgeError",
    "check_targets",
    "describe_validation_error",
    "parse_fault_schedule",
    "parse_seconds",
    "schedule_end",
    "toxiproxy_url_from_env",
]
