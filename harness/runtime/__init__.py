"""Bring a topology up, drive it, tear it down.

    from harness.runtime import start_system
    from harness.topology import load_topology

    with start_system(load_topology(Path("system.toml"))) as system:
        system.faults.add_toxic("orders->payments", "latency", attributes={"latency": 500})
        system.kill("payments"); system.restart("payments")

Backends: `process` (default: local processes, the embedded fault proxy on every edge, or a
real Toxiproxy at `TOXIPROXY_URL`) and `attach` (services already running at their `url`).
"""

from harness.runtime.errors import (
    HarnessRuntimeError,
    NotStartedByHarness,
    RunInUseError,
    RunNotFoundError,
    ServiceUnhealthyError,
    StartupError,
    UnknownServiceError,
)
from harness.runtime.rundir import RunState, harness_home
from harness.runtime.start import Backend, launch, open_run, start_system
from harness.runtime.system import EdgeHandle, RunningSystem, ServiceHandle
from harness.runtime.teardown import StopReport, clean_stale_runs

__all__ = [
    "Backend",
    "EdgeHandle",
    "HarnessRuntimeError",
    "NotStartedByHarness",
    "RunInUseError",
    "RunNotFoundError",
    "RunState",
    "RunningSystem",
    "ServiceHandle",
    "ServiceUnhealthyError",
    "StartupError",
    "StopReport",
    "UnknownServiceError",
    "clean_stale_runs",
    "harness_home",
    "launch",
    "open_run",
    "start_system",
]
