"""A run's fault proxies, from its state file: the injector that drives them, and giving them
back at the end.

A run owns the proxies it created (the process backend on a real Toxiproxy, the embedded
proxy's): it deletes them when it stops. Proxies it found on the user's Toxiproxy (attach)
stay: the run removes only the toxics it added and leaves each proxy enabled or disabled as
it was found.
"""

from __future__ import annotations

import logging

from harness.faults import (
    DEFAULT_TIMEOUT,
    FaultInjector,
    FaultProxyError,
    FaultTargetNotFound,
    ToxiproxyClient,
)
from harness.faults.injector import ProxyBaseline
from harness.runtime.rundir import RunState

__all__ = ["NO_EDGES_REASON", "faults_from_state", "release_proxies"]

log = logging.getLogger(__name__)
NO_EDGES_REASON = "this topology has no edges, so no fault proxy was started"
RELEASE_TIMEOUT = 2.0


def faults_from_state(
    state: RunState, *, unavailable_reason: str = NO_EDGES_REASON, timeout: float = DEFAULT_TIMEOUT
) -> FaultInjector:
    """The network faults of the run recorded in `state` (`timeout`: seconds per request)."""
    proxy = state.fault_proxy
    client = ToxiproxyClient(proxy.api_url, timeout=timeout) if proxy is not None else None
    baselines = {
        edge.proxy_name: ProxyBaseline(
            toxics=frozenset(edge.found_toxics), enabled=edge.found_enabled
        )
        for edge in state.edges.values()
        if not edge.created
    }
    return FaultInjector(
        client,
        {name: edge.proxy_name for name, edge in state.edges.items()},
        owns_server=bool(proxy and proxy.embedded),
        baselines=baselines,
        unavailable_reason=unavailable_reason,
    )


def release_proxies(state: RunState) -> None:
    """At the end of a run on a Toxiproxy that outlives it: delete the proxies the run created,
    restore those it found. The embedded proxy goes away with its process: nothing to do."""
    proxy = state.fault_proxy
    if proxy is None or proxy.embedded:
        return
    faults = faults_from_state(state, timeout=RELEASE_TIMEOUT)
    for name, edge in state.edges.items():
        try:
            if edge.created:
                faults.client.delete_proxy(edge.proxy_name)
            else:
                faults.restore(name)
        except FaultTargetNotFound:
            continue  # gone already: what we wanted, or the user's to worry about
        except FaultProxyError as exc:
            log.warning("could not give back the proxy of %s: %s", name, exc)
