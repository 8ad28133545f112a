"""Helpers for the containers backend's tests: small topologies and engine look-ups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.runtime.backends.containers.engine import docker_client
from harness.runtime.backends.containers.labels import run_filter
from harness.topology import Topology, load_topology, parse_topology

REFERENCE = Path(__file__).parents[2] / "target-system" / "system.toml"
AUTH = {"Authorization": "Bearer demo-token"}


def shop_subset(services: list[str], edges: list[str]) -> Topology:
    """Part of the reference shop (same files and settings): fewer containers to start.

    Breakers are off: one test's faults must not leave a breaker open for the next.
    """
    data: dict[str, Any] = load_topology(REFERENCE).model_dump(mode="json", by_alias=True)
    data["services"] = {name: data["services"][name] for name in services}
    data["edges"] = edges
    data["system"]["preload"] = []
    data["system"]["env"]["BREAKER_ENABLED"] = "false"
    return parse_topology(data, source=REFERENCE)


def run_objects(run_id: str) -> list[str]:
    """Names of the containers and networks still labelled with `run_id`."""
    client = docker_client()
    try:
        containers = client.containers.list(all=True, filters=run_filter(run_id))
        networks = client.networks.list(filters=run_filter(run_id))
        return [f"container {c.name}" for c in containers] + [f"network {n.name}" for n in networks]
    finally:
        client.close()
