"""Which services of a topology to fuzz, in which order, and where their documents are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from harness.topology import Topology

__all__ = ["DEFAULT_OPENAPI_PATH", "DocumentProbe", "callers_first", "probe_document"]

DEFAULT_OPENAPI_PATH = "/openapi.json"


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
    service: str, base_url: str, *, path: str = DEFAULT_OPENAPI_PATH, timeout: float = 5.0
) -> DocumentProbe:
    """GET `base_url + path`: found when it answers 200 with an OpenAPI (or Swagger) object."""
    url = base_url.rstrip("/") + path
    try:
        response = httpx.get(url, timeout=timeout)
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
