"""Optional Locust load during an experiment, through the load layer's runner.

The load runs in a thread for the profile's own duration; its verdict (SLOs, its own
assertions) is recorded in the experiment's result and a failed load fails the experiment.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.chaos.model import LoadSpec
from harness.chaos.result import ExperimentResult

__all__ = ["run_load_in_background"]

log = logging.getLogger(__name__)


def run_load_in_background(
    spec: LoadSpec, system: Any, base_dir: Path, out_dir: Path, result: ExperimentResult
) -> None:
    """Run the profile against `system` (report in `out_dir`); store a summary (or the
    error) in `result.load`."""
    try:
        from harness.load.profile import load_profile
        from harness.load.runner import run_load
    except ImportError as exc:  # the load layer is an optional part of the pipeline
        result.load = {"passed": False, "error": f"the load layer is not available: {exc}"}
        return
    path = (base_dir / spec.profile).resolve()
    try:
        profile = load_profile(path)
        summary = run_load(profile, system=system, out_dir=out_dir)
    except Exception as exc:  # recorded: the experiment fails with the reason
        log.exception("chaos: the load run failed")
        result.load = {
            "passed": False,
            "profile": str(path),
            "error": f"{type(exc).__name__}: {exc}",
        }
        return
    result.load = {
        "passed": summary.passed,
        "profile": str(path),
        "report": summary.report_path,
        "failed_checks": [check.model_dump(mode="json") for check in summary.failed_checks],
    }
