"""Bring a topology up, drive it, tear it down.

    from harness.runtime import start_system
    from harness.topology import load_topology

    with start_system(load_topology(Path("system.toml"))) as system:
        system.faults.add_toxic("orders->payments", "latency", attributes={"latency": 500})
        system.kill("payments"); system.restart("payments")

Backends (`harness.runtime.backends`, each a `Backend`, registered by name): `process`
(default: local processes, the embedded fault proxy on every edge, or a real Toxiproxy at
`TOXIPROXY_URL`), `attach` (services already running at their `url`) and `containers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.runtime.backends import BACKENDS, Backend, backend_named
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
    from harness.runtime.start import clean_stale_runs, launch, open_run, run_is_stale, start_system
    from harness.runtime.system import EdgeHandle, RunningSystem, ServiceHandle
    from harness.runtime.teardown import StopReport

__all__ = [
    "BACKENDS",
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
    "backend_named",
    "clean_stale_runs",
    "harness_home",
    "launch",
    "open_run",
    "run_is_stale",
    "start_system",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.runtime.backends": ("BACKENDS", "Backend", "backend_named"),
        "harness.runtime.errors": (
            "HarnessRuntimeError",
            "NotStartedByHarness",
            "RunInUseError",
            "RunNotFoundError",
            "ServiceUnhealthyError",
            "StartupError",
            "UnknownServiceError",
        ),
        "harness.runtime.rundir": ("RunState", "harness_home"),
        "harness.runtime.start": (
            "clean_stale_runs",
            "launch",
            "open_run",
            "run_is_stale",
            "start_system",
        ),
        "harness.runtime.system": ("EdgeHandle", "RunningSystem", "ServiceHandle"),
        "harness.runtime.teardown": ("StopReport",),
    },
)
