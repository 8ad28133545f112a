"""Load runs: Locust (in its own processes) with SLO gates, fault schedules and a report.

    from harness.load import load_profile, run_load, run_profile

    summary = run_profile("load/profiles/smoke.yaml")          # starts the system too
    summary = run_load(load_profile(path), system=system, out_dir=out)   # a running system
    summary.passed, summary.exit_code, summary.checks, summary.report_path

Locust itself is never imported here (it monkey-patches the process with gevent); see
`locust_plugin.py`, which runs inside the Locust processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.load.profile import LoadProfile, ProfileError, load_profile, parse_profile
    from harness.load.runner import LoadRunError, render_saved_report, run_load, run_profile
    from harness.load.summary import LoadSummary
    from harness.load.verdict import Check

__all__ = [
    "Check",
    "LoadProfile",
    "LoadRunError",
    "LoadSummary",
    "ProfileError",
    "load_profile",
    "parse_profile",
    "render_saved_report",
    "run_load",
    "run_profile",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.load.profile": ("LoadProfile", "ProfileError", "load_profile", "parse_profile"),
        "harness.load.runner": ("LoadRunError", "render_saved_report", "run_load", "run_profile"),
        "harness.load.summary": ("LoadSummary",),
        "harness.load.verdict": ("Check",),
    },
)
