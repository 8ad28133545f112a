"""The topology file (`system.toml`): services, edges and how each is started and
observed; parsed once into typed models (see `harness.topology.model`).
"""

from __future__ import annotations

from harness.topology.conventions import (
    BreakerConvention,
    Conventions,
    ResolvedConventions,
)
from harness.topology.edge import Edge, EdgeField
from harness.topology.model import (
    DEFAULT_TOPOLOGY_FILE,
    PLACEHOLDERS,
    TOPOLOGY_ENV,
    EdgeSpec,
    EnvValue,
    ExploreSettings,
    FuzzSettings,
    PipelineSettings,
    ServiceSpec,
    SystemSettings,
    Topology,
    TopologyError,
    env_text,
    find_topology,
    load_topology,
    normalize_edge_name,
    parse_topology,
    render_template,
)

__all__ = [
    "DEFAULT_TOPOLOGY_FILE",
    "PLACEHOLDERS",
    "TOPOLOGY_ENV",
    "BreakerConvention",
    "Conventions",
    "Edge",
    "EdgeField",
    "EdgeSpec",
    "EnvValue",
    "ExploreSettings",
    "FuzzSettings",
    "PipelineSettings",
    "ResolvedConventions",
    "ServiceSpec",
    "SystemSettings",
    "Topology",
    "TopologyError",
    "env_text",
    "find_topology",
    "load_topology",
    "normalize_edge_name",
    "parse_topology",
    "render_template",
]
