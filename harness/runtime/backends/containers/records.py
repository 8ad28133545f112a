"""`containers.json` in the run directory: the containers and network of a run.

Beside the run's `state.json` (which holds what every backend shares: services' URLs,
edges, the fault proxy's API), so that another process (`harness status/down`,
`open_run`) can drive and stop the containers the harness started. Written after each
container starts; what a crash leaves unrecorded is still found by its labels.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CONTAINERS_FILE", "ContainerRecord", "ContainersState", "read_records", "write_records"]

CONTAINERS_FILE = "containers.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContainerRecord(_Record):
    """One container: a service's, or the fault proxy's."""

    name: str  # the service's name, or "fault-proxy"; also its alias on the network
    container_id: str
    image: str
    address: str = Field(description="its fixed address on the run's network")
    container_port: int
    host_port: int = Field(description="published on 127.0.0.1")
    log_path: str
    paused: bool = False
    disconnected: bool = False


class ContainersState(_Record):
    network: str = Field(description="the run's private network (its name)")
    subnet: str = ""
    images: dict[str, str] = Field(default_factory=dict)
    fault_proxy: ContainerRecord | None = None
    services: dict[str, ContainerRecord] = Field(default_factory=dict)

    def all(self) -> list[ContainerRecord]:
        proxy = [self.fault_proxy] if self.fault_proxy is not None else []
        return [*self.services.values(), *proxy]


def read_records(run_dir: Path) -> ContainersState | None:
    try:
        text = (run_dir / CONTAINERS_FILE).read_text(encoding="utf-8")
        return ContainersState.model_validate_json(text)
    except (OSError, ValueError):
        return None


def write_records(run_dir: Path, records: ContainersState) -> None:
    """Replace the file atomically (a reader never sees half a file)."""
    tmp = run_dir / f".{CONTAINERS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(records.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(run_dir / CONTAINERS_FILE)
