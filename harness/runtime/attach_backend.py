"""The attach backend: a system already running somewhere, given by each service's `url`.

Nothing is started or stopped. Network faults need proxies the user provides: a Toxiproxy
server at `TOXIPROXY_URL` holding, for each edge, a proxy named `source->target` (or the
edge's `proxy` key) that the caller already goes through. Without one, `system.faults`
raises `FaultProxyUnavailable` saying so, and process faults raise `NotStartedByHarness`.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from harness.faults import FaultInjector, FaultProxyError, ToxiproxyClient
from harness.runtime.errors import HarnessRuntimeError, StartupError
from harness.runtime.health import HealthTarget, wait_all_healthy
from harness.runtime.process_backend import new_state
from harness.runtime.rundir import EdgeRecord, FaultProxyRecord, ServiceRecord, write_state
from harness.runtime.system import RunningSystem
from harness.topology import Topology

__all__ = ["NO_PROXY_REASON", "attach_system"]

NO_PROXY_REASON = (
    "the attach backend starts no fault proxy: set TOXIPROXY_URL to a Toxiproxy server that "
    "has one proxy per edge (named 'source->target', or the edge's `proxy` key) and route "
    "each caller through it"
)


def attach_system(
    topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
) -> RunningSystem:
    missing = [s.name for s in topology.services.values() if s.url is None]
    if missing:
        raise HarnessRuntimeError(
            f"the attach backend needs `url` for every service; missing for: {', '.join(missing)}"
        )
    started = time.monotonic()
    state = new_state(topology, run_dir=run_dir, backend="attach")
    for service in topology.services.values():
        url = service.url or ""
        state.services[service.name] = ServiceRecord(
            name=service.name, url=url, port=urlsplit(url).port, health=service.health
        )
    client = ToxiproxyClient(toxiproxy_url) if toxiproxy_url else None
    state.edges = _edges(topology, client)
    if client is not None:
        state.fault_proxy = FaultProxyRecord(api_url=client.url, embedded=False)
    write_state(run_dir, state)
    targets = [HealthTarget.of(n, r.url, r.health) for n, r in state.services.items()]
    failures = wait_all_healthy(targets, timeout=topology.system.startup_timeout)
    if failures:
        raise StartupError("attached services are not healthy", failures=failures)
    state.status = "running"
    state.startup_seconds = time.monotonic() - started
    write_state(run_dir, state)
    proxies = {name: e.proxy_name for name, e in state.edges.items()}
    faults = FaultInjector(client, proxies, unavailable_reason=NO_PROXY_REASON)
    return RunningSystem(
        topology=topology, run_dir=run_dir, state=state, faults=faults, processes={}, home=home
    )


def _edges(topology: Topology, client: ToxiproxyClient | None) -> dict[str, EdgeRecord]:
    existing = {}
    if client is not None:
        try:
            existing = client.proxies()
        except FaultProxyError as exc:
            raise StartupError(f"cannot list the proxies at {client.url}: {exc}") from exc
    edges = {}
    for edge in topology.edges:
        proxy_name = edge.proxy or edge.name
        found = existing.get(proxy_name)
        if client is not None and found is None:
            raise StartupError(
                f"edge {edge.name}: no proxy named {proxy_name!r} at {client.url}; "
                f"proxies there: {', '.join(sorted(existing)) or '(none)'}"
            )
        target = urlsplit(topology.services[edge.target].url or "")
        edges[edge.name] = EdgeRecord(
            name=edge.name,
            source=edge.source,
            target=edge.target,
            proxy_name=proxy_name,
            listen=str(found["listen"]) if found else None,
            upstream=str(found["upstream"]) if found else f"{target.hostname}:{target.port}",
            env_var=edge.env_var,
        )
    return edges
