"""Optional Locust load during an experiment, through the load layer's runner.

The load runs in a thread for the profile's own duration; its verdict (SLOs, its own
assertions) is recorded in the experiment's result and a failed load fails the experiment.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from harness.chaos.model import LoadSpec
from harness.chaos.result import ExperimentResult

__all__ = ["BackgroundLoad", "run_load_in_background"]

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


class BackgroundLoad:
    """The Locust load of an experiment's method, in a thread (at most one per run)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    def start(
        self, spec: LoadSpec, system: Any, base_dir: Path, out_dir: Path, result: ExperimentResult
    ) -> None:
        self._thread = threading.Thread(
            target=run_load_in_background,
            args=(spec, system, base_dir, out_dir, result),
            name="chaos-load",
            daemon=True,
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, *, timeout: float = 120.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)
