"""The attach backend: a system already running somewhere, given by each service's `url`.

Nothing is started or stopped. Network faults need proxies the user provides: a Toxiproxy
server at `TOXIPROXY_URL` holding, for each edge, a proxy named `source->target` (or the
edge's `proxy` key) that the caller already goes through. Without one, `system.faults`
raises `FaultProxyUnavailable` saying so, and process faults raise `NotStartedByHarness`.

The user's proxies stay theirs: the run records each as it found it (its toxics, enabled or
not), removes only the toxics it added, and never deletes one. A detached attach run lives
until `harness down`: there is no process of it that could die.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.faults import FaultProxyError, ToxiproxyClient
from harness.runtime.errors import HarnessRuntimeError, StartupError
from harness.runtime.health import HealthTarget, wait_all_healthy
from harness.runtime.rundir import (
    EdgeRecord,
    FaultProxyRecord,
    RunState,
    ServiceRecord,
    new_state,
    write_state,
)
from harness.runtime.system import RunningSystem
from harness.runtime.teardown import StopReport, stop_run
from harness.topology import Topology

__all__ = ["NO_PROXY_REASON", "AttachBackend"]

NO_PROXY_REASON = (
    "the attach backend starts no fault proxy: set TOXIPROXY_URL to a Toxiproxy server that "
    "has one proxy per edge (named 'source->target', or the edge's `proxy` key) and route "
    "each caller through it"
)


class AttachBackend:
    """Services already running at their `url`; see the module docstring."""

    name = "attach"

    independent = False  # every launch attaches to the same running services

    def launch(
        self, topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
    ) -> RunningSystem:
        missing = [s.name for s in topology.services.values() if s.url is None]
        if missing:
            raise HarnessRuntimeError(
                "the attach backend needs `url` for every service; missing for: "
                + ", ".join(missing)
            )
        started = time.monotonic()
        state = new_state(topology, run_dir=run_dir, backend=self.name)
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
            state.status = "stopped"
            write_state(run_dir, state)
            raise StartupError("attached services are not healthy", failures=failures)
        state.status = "running"
        state.startup_seconds = time.monotonic() - started
        write_state(run_dir, state)
        return self.reopen(state, run_dir=run_dir, topology=topology, home=home)

    def reopen(
        self, state: RunState, *, run_dir: Path, topology: Topology, home: Path | None
    ) -> RunningSystem:
        return RunningSystem.from_state(
            state, run_dir=run_dir, topology=topology, home=home, no_proxy_reason=NO_PROXY_REASON
        )

    def is_alive(self, state: RunState) -> bool:
        return True  # nothing of ours runs, so nothing can die: only `down` ends the run

    def remove(self, state: RunState, *, run_dir: Path) -> StopReport:
        return stop_run(run_dir, state)  # gives the user's proxies back as they were found


def _edges(topology: Topology, client: ToxiproxyClient | None) -> dict[str, EdgeRecord]:
    existing: dict[str, dict[str, Any]] = {}
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
            created=False,
            found_toxics=[str(t["name"]) for t in found.get("toxics", [])] if found else [],
            found_enabled=bool(found.get("enabled", True)) if found else True,
        )
    return edges
