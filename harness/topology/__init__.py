"""The topology file (`system.toml`): services, edges and how each is started and
observed; parsed once into typed models (see `harness.topology.model`).
"""

from __future__ import annotations

from harness.topology.model import (
    PLACEHOLDERS,
    EdgeSpec,
    EnvValue,
    FuzzSettings,
    ServiceSpec,
    SystemSettings,
    Topology,
    TopologyError,
    env_text,
    load_topology,
    normalize_edge_name,
    parse_topology,
    render_template,
)

__all__ = [
    "PLACEHOLDERS",
    "EdgeSpec",
    "EnvValue",
    "FuzzSettings",
    "ServiceSpec",
    "SystemSettings",
    "Topology",
    "TopologyError",
    "env_text",
    "load_topology",
    "normalize_edge_name",
    "parse_topology",
    "render_template",
]
