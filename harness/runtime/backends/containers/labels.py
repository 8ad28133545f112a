"""Labels on every container and network the backend creates.

They make a run findable without its state file: a harness that was SIGKILLed half-way
through a start leaves containers that the next start (or `harness down`, or the teardown
script) finds by `io.harness.run-id` and removes.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "LABEL_ROLE",
    "LABEL_RUN_DIR",
    "LABEL_RUN_ID",
    "LABEL_SERVICE",
    "ROLE_FAULT_PROXY",
    "ROLE_SERVICE",
    "run_filter",
    "run_labels",
]

LABEL_RUN_ID = "io.harness.run-id"
LABEL_RUN_DIR = "io.harness.run-dir"
LABEL_ROLE = "io.harness.role"
LABEL_SERVICE = "io.harness.service"

ROLE_SERVICE = "service"
ROLE_FAULT_PROXY = "fault-proxy"


def run_labels(run_id: str, run_dir: Path, **extra: str) -> dict[str, str]:
    """The labels of one run's containers and network (`extra` adds role, service, ...)."""
    return {LABEL_RUN_ID: run_id, LABEL_RUN_DIR: str(run_dir), **extra}


def run_filter(run_id: str | None = None) -> dict[str, str]:
    """Docker API list filter: one run's objects, or (None) every run's."""
    return {"label": LABEL_RUN_ID if run_id is None else f"{LABEL_RUN_ID}={run_id}"}
