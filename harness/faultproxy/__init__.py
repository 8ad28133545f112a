"""The embedded fault proxy: a Toxiproxy-compatible server (API v2.8.0) on asyncio.

Clients of the Toxiproxy HTTP API (toxiproxy-python, the Go/Ruby/Node clients, curl) cannot
tell it from the real server: same endpoints, JSON shapes and key order, status codes, error
bodies, and toxics (`latency`, `bandwidth`, `slow_close`, `timeout`, `reset_peer`, `slicer`,
`limit_data`, `noop`) applied per connection and direction, live. Beyond that API it has
HTTP toxics (`http_error`, `http_drop`, `http_delay`) and request counts per proxy
(`/proxies/{name}/requests`), described in README.md.

    async with FaultProxyServer(port=0, seed=1) as srv:   # in an event loop
        ...srv.url...
    with start_in_thread(port=0) as handle:               # from sync code
        ...handle.url...
    serve(host="127.0.0.1", port=8474)                    # blocking, for a command line

Deviations from the real server are where it crashes (slicer with zero sizes, negative
bandwidth rate; see those toxics' modules) and at start (a bad `--config` is an error here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.faultproxy.api import TOXIPROXY_VERSION
    from harness.faultproxy.server import (
        ConfigError,
        FaultProxyServer,
        ServerHandle,
        serve,
        start_in_thread,
    )

__all__ = [
    "TOXIPROXY_VERSION",
    "ConfigError",
    "FaultProxyServer",
    "ServerHandle",
    "serve",
    "start_in_thread",
]

# Imported on first use: `harness.faults` reads the toxic registry (`harness.faultproxy.toxics`)
# and should not pay for the server it does not run.
__getattr__ = lazy_exports(
    __name__,
    {
        "harness.faultproxy.api": ("TOXIPROXY_VERSION",),
        "harness.faultproxy.server": (
            "ConfigError",
            "FaultProxyServer",
            "ServerHandle",
            "serve",
            "start_in_thread",
        ),
    },
)
