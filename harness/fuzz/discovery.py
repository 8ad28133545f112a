"""Which services of a topology to fuzz, in which order, and where their documents are.

Where a service's OpenAPI document (OpenAPI 3 or Swagger 2) is comes from its `openapi`
convention (`[services.NAME.conventions]`, else `[conventions]`, else "/openapi.json");
`--openapi-path` overrides it for a run. "" means the service has none: it is not fuzzed,
and shows as skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from harness import http_clients
from harness.topology import Topology

__all__ = [
    "DocumentLocation",
    "DocumentProbe",
    "callers_first",
    "document_location",
    "probe_document",
]


@dataclass(frozen=True, slots=True)
class DocumentLocation:
    """Where `service`'s document is: `path` ("" for none) and who said so (`declared_by`:
    "--openapi-path", "[services.NAME.conventions] openapi", or None for the default)."""

    service: str
    path: str
    declared_by: str | None

    @property
    def setting(self) -> str:
        """The setting a user changes to say where the document is."""
        return f"`openapi` under [services.{self.service}.conventions]"


def document_location(
    topology: Topology, service: str, overrides: Mapping[str, str] | None = None
) -> DocumentLocation:
    """Where `service`'s document is: `overrides` (a run's --openapi-path), else the
    `openapi` convention in force."""
    if overrides and service in overrides:
        return DocumentLocation(service, overrides[service], "--openapi-path")
    declared = topology.services[service].conventions.openapi
    path = topology.conventions_for(service).openapi
    return DocumentLocation(service, path, None if declared is None else "the `openapi` convention")


def callers_first(topology: Topology, services: Iterable[str] | None = None) -> list[str]:
    """`services` (default: all) with each service before the ones it calls.

    Fuzzing a callee changes its data (the users fuzzer deletes users, the inventory fuzzer
    reserves stock); its callers are fuzzed first, while the data prepared for them (see
    `FuzzOptions.prepare`) is still as it was put. Services in a cycle keep the file order.
    """
    wanted = list(topology.services) if services is None else list(services)
    callers = {name: {e.source for e in topology.edges if e.target == name} for name in wanted}
    ordered: list[str] = []
    remaining = list(wanted)
    while remaining:
        ready = [s for s in remaining if not (callers[s] & set(remaining))]
        step = ready or remaining[:1]  # a cycle: take the first in file order
        for name in step:
            ordered.append(name)
            remaining.remove(name)
    return ordered


@dataclass(frozen=True, slots=True)
class DocumentProbe:
    """The answer to "does `service` serve an OpenAPI document at `url`?"."""

    service: str
    url: str
    found: bool
    reason: str = ""


def probe_document(
    service: str, base_url: str, *, path: str, timeout: float = 5.0
) -> DocumentProbe:
    """GET `base_url + path`: found when it answers 200 with an OpenAPI (or Swagger) object."""
    url = base_url.rstrip("/") + path
    try:
        response = http_clients.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return DocumentProbe(service, url, found=False, reason=f"no answer: {exc}")
    if response.status_code != 200:
        return DocumentProbe(service, url, found=False, reason=f"answered {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        return DocumentProbe(service, url, found=False, reason="the answer is not JSON")
    if not isinstance(document, Mapping) or not ("openapi" in document or "swagger" in document):
        return DocumentProbe(service, url, found=False, reason="not an OpenAPI document")
    return DocumentProbe(service, url, found=True)
