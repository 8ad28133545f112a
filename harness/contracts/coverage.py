"""Which edges of a topology have a contract.

An edge `orders -> inventory` is covered by a pact whose consumer is `orders` and whose
provider is `inventory`. Message pacts run the other way round (the provider sends, the
consumer receives), so they cover no call edge; they are listed with the other pacts that
match no edge.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from harness.contracts.pactfiles import PactFile
from harness.topology import Topology

__all__ = ["EdgeCoverage", "edge_coverage", "pacts_without_edge"]


class EdgeCoverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    edge: str
    pacts: tuple[str, ...]
    interactions: int

    @property
    def covered(self) -> bool:
        return self.interactions > 0


def edge_coverage(topology: Topology, pacts: Sequence[PactFile]) -> list[EdgeCoverage]:
    """One entry per topology edge, in the topology's order, with the HTTP pacts covering it."""
    rows = []
    for edge in topology.edges:
        matching = [
            p
            for p in pacts
            if p.consumer == edge.source and p.provider == edge.target and p.has_http
        ]
        rows.append(
            EdgeCoverage(
                edge=edge.name,
                pacts=tuple(p.path.name for p in matching),
                interactions=sum(1 for p in matching for i in p.interactions if i.kind == "http"),
            )
        )
    return rows


def pacts_without_edge(topology: Topology, pacts: Sequence[PactFile]) -> list[PactFile]:
    """Pacts that match no call edge: message pacts, and pacts for edges not in the file."""
    edges = {edge.name for edge in topology.edges}
    return [p for p in pacts if not (p.has_http and p.pair in edges)]
