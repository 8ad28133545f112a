"""Every proxy of the server, by name (the real server's `ProxyCollection`)."""

from __future__ import annotations

import asyncio
from typing import Any

from harness.faultproxy import gojson
from harness.faultproxy.errors import ApiError
from harness.faultproxy.gojson import BOOL, STRING, GoField, GoPointer, GoSlice, GoStruct
from harness.faultproxy.netaddr import ListenError
from harness.faultproxy.proxy import Proxy

__all__ = ["PROXY_TYPE", "ProxyCollection", "decode_body"]

# zerolog.Logger: an exported field of the real Proxy struct; any JSON object decodes into it.
_LOGGER = GoPointer(GoStruct("zerolog.Logger", "Logger", ()))

PROXY_TYPE = GoStruct(
    "toxiproxy.Proxy",
    "Proxy",
    (
        GoField("name", STRING),
        GoField("listen", STRING),
        GoField("upstream", STRING),
        GoField("enabled", BOOL),
        GoField("Logger", _LOGGER),
    ),
)

# /populate decodes into []struct{ Proxy; Enabled *bool `json:"enabled"` }.
_POPULATE_ENTRY = GoStruct(
    'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }',
    "",
    (
        GoField("name", STRING),
        GoField("listen", STRING),
        GoField("upstream", STRING),
        GoField("enabled", GoPointer(BOOL)),
        GoField("Logger", _LOGGER),
    ),
)
_POPULATE_TYPE = GoSlice(_POPULATE_ENTRY)


def decode_body(body: bytes, typ: gojson.GoType) -> Any:
    """Decode a request body; bad input raises the real server's 400."""
    try:
        return gojson.decode(body, typ)
    except gojson.JSONDecodeError as exc:
        raise ApiError.bad_request_body(exc) from None


class ProxyCollection:
    """Proxies by name, in creation order."""

    def __init__(self, *, seed: int | None = None) -> None:
        self.seed = seed
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def new_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        return Proxy(name=name, listen=listen, upstream=upstream, seed=self.seed)

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise ApiError.proxy_not_found()
        return proxy

    async def add(self, proxy: Proxy, *, start: bool) -> None:
        async with self.lock:
            if proxy.name in self.proxies:
                raise ApiError.proxy_exists()
            if start:
                await _start(proxy)
            self.proxies[proxy.name] = proxy

    async def add_or_replace(self, proxy: Proxy, *, start: bool) -> None:
        """Keep an existing proxy with the same listen and upstream, else replace it."""
        async with self.lock:
            existing = self.proxies.get(proxy.name)
            if existing is not None:
                if existing.listen == proxy.listen and existing.upstream == proxy.upstream:
                    return
                await existing.stop()
            if start:
                await _start(proxy)
            self.proxies[proxy.name] = proxy

    async def remove(self, name: str) -> None:
        async with self.lock:
            proxy = self.get(name)
            await proxy.stop()
            del self.proxies[name]

    async def populate(self, body: bytes) -> tuple[list[Proxy], ApiError | None]:
        """Create or replace proxies from a JSON array. Returns the proxies as the real 2.8.0
        server reports them (an unchanged proxy appears as a fresh, unstarted object) and the
        error that stopped the work, if any; proxies before a failure stay created."""
        try:
            entries = decode_body(body, _POPULATE_TYPE) or []
        except ApiError as exc:
            return [], exc
        entries = [entry or {} for entry in entries]
        # Validate everything before changing anything.
        for number, entry in enumerate(entries, start=1):
            if not entry.get("name"):
                return [], ApiError.missing_field(f"name at proxy {number}")
            if not entry.get("upstream"):
                return [], ApiError.missing_field(f"upstream at proxy {number}")
        created: list[Proxy] = []
        for entry in entries:
            proxy = self.new_proxy(entry["name"], entry.get("listen", ""), entry["upstream"])
            enabled = entry.get("enabled")
            try:
                await self.add_or_replace(proxy, start=True if enabled is None else enabled)
            except ApiError as exc:
                return created, exc
            created.append(proxy)
        return created, None

    async def close(self) -> None:
        """Stop every proxy (server shutdown)."""
        for proxy in list(self.proxies.values()):
            await proxy.stop()


async def _start(proxy: Proxy) -> None:
    try:
        await proxy.start()
    except ListenError as exc:
        raise ApiError.internal(str(exc)) from None
