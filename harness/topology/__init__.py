"""The topology file (`system.toml`): services, edges and how each is started and
observed; parsed once into typed models (see `harness.topology.model`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.topology.conventions import (
        BreakerConvention,
        Conventions,
        ResolvedConventions,
    )
    from harness.topology.edge import Edge, EdgeField
    from harness.topology.lookup import DEFAULT_TOPOLOGY_FILE, TOPOLOGY_ENV
    from harness.topology.model import (
        PLACEHOLDERS,
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

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.topology.conventions": ("BreakerConvention", "Conventions", "ResolvedConventions"),
        "harness.topology.edge": ("Edge", "EdgeField"),
        "harness.topology.lookup": ("DEFAULT_TOPOLOGY_FILE", "TOPOLOGY_ENV"),
        "harness.topology.model": (
            "PLACEHOLDERS",
            "EdgeSpec",
            "EnvValue",
            "ExploreSettings",
            "FuzzSettings",
            "PipelineSettings",
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
        ),
    },
)
