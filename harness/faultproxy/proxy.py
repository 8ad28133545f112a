"""A proxy: a listener, the connections it accepted, and its toxics.

Ports the real server's `Proxy`: `start` binds `listen` (and replaces it with the bound
address), `stop` closes the listener and every connection, `update` applies a PATCH. Each
accepted client is paired with a new connection to `upstream`; if that fails the client is
closed at once (unread data makes that close an RST, as with the real server).
"""

from __future__ import annotations

import asyncio
import logging
import random

from harness.faultproxy.httpflow import HttpFlow
from harness.faultproxy.link import HOLD_DIAL, Direction, Link, Side
from harness.faultproxy.netaddr import AddressError, dial_target, listen_tcp
from harness.faultproxy.request_log import RequestLog
from harness.faultproxy.toxic_collection import ToxicCollection

__all__ = ["Connection", "Proxy", "ProxyAlreadyStarted"]

log = logging.getLogger("harness.faultproxy")

LISTEN_BACKLOG = 4096


class ProxyAlreadyStarted(Exception):
    """`start` on an enabled proxy (the real server's ErrProxyAlreadyStarted)."""


class _ClientSide(Side):
    """The accepted socket: holds its data back until the upstream connection is open."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self._proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.hold(HOLD_DIAL, True)
        self._proxy._client_accepted(self)


class Connection:
    """A client socket, its upstream socket, and the two links between them."""

    def __init__(self, proxy: Proxy, client: Side, upstream: Side, index: int) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.index = index
        self.flow: HttpFlow | None = None
        toxics = proxy.toxics
        self.links = (
            Link(
                direction=Direction.UPSTREAM,
                source=client,
                dest=upstream,
                rng=proxy.link_rng(index, Direction.UPSTREAM),
                on_done=toxics.remove_link,
            ),
            Link(
                direction=Direction.DOWNSTREAM,
                source=upstream,
                dest=client,
                rng=proxy.link_rng(index, Direction.DOWNSTREAM),
                on_done=toxics.remove_link,
            ),
        )
        client.on_lost = upstream.on_lost = self._side_lost

    def start(self) -> None:
        toxics = self.proxy.toxics
        if toxics.resets_peer():
            # A reset_peer toxic present at accept turns every close of these sockets into an RST.
            self.client.set_linger_zero()
            self.upstream.set_linger_zero()
        if self.proxy.http_wanted:
            self.parse_http(fresh=True)
        for link in self.links:
            toxics.start_link(link)
        for link in self.links:
            link.begin_reading()

    def parse_http(self, *, fresh: bool) -> None:
        """Route both directions through an HTTP flow (`fresh`: from the first byte on)."""
        proxy = self.proxy
        self.flow = HttpFlow(
            client=self.client,
            upstream=self.upstream,
            toxics=lambda: proxy.toxics.http,
            requests=proxy.requests,
            rng=proxy.http_rng(self.index),
            wanted=lambda: proxy.http_wanted,
            on_detach=self._http_detached,
            fresh=fresh,
        )
        for link in self.links:
            link.refresh_fast_path()

    def _http_detached(self) -> None:
        self.flow = None

    def abort(self) -> None:
        """Close both sockets now (proxy disabled or deleted)."""
        self.client.abort()
        self.upstream.abort()
        self._stop_links()

    def _side_lost(self, side: Side) -> None:
        if self.client.lost and self.upstream.lost:
            self._stop_links()

    def _stop_links(self) -> None:
        for link in self.links:
            link.stop()
        self.proxy._connections.discard(self)


class Proxy:
    """One proxy of the API."""

    def __init__(self, *, name: str, listen: str, upstream: str, seed: int | None) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicCollection(on_http_change=self.http_changed)
        self.requests = RequestLog()
        self.lock = asyncio.Lock()
        self._seed = seed
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        self._dialing: set[Side] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepted = 0  # numbers connections, so seeded draws replay per connection
        self._generation = 0  # bumped by every stop: a dial that outlives it is dropped

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},  # the real server's exported Logger field, marshalled as {}
            "toxics": [toxic.to_json() for toxic in self.toxics.toxics()],
        }

    def link_rng(self, index: int, direction: Direction) -> random.Random:
        """Randomness of one connection's direction: replayable when the server is seeded."""
        if self._seed is None:
            return random.Random()
        return random.Random(f"{self._seed}/{self.name}/{index}/{direction}")

    def http_rng(self, index: int) -> random.Random:
        """Randomness of one connection's HTTP toxics (toxicity, jitter), seeded likewise."""
        if self._seed is None:
            return random.Random()
        return random.Random(f"{self._seed}/{self.name}/{index}/http")

    @property
    def http_wanted(self) -> bool:
        """Connections parse HTTP while an HTTP toxic is installed or requests are counted."""
        return bool(self.toxics.http) or self.requests.enabled

    def http_changed(self) -> None:
        """HTTP toxics or counting changed: open connections start (or update) their flows;
        a flow no longer wanted leaves by itself at its next idle point."""
        wanted = self.http_wanted
        for conn in list(self._connections):
            if conn.flow is not None:
                conn.flow.toxics_changed()
            elif wanted:
                conn.parse_http(fresh=False)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        async with self.lock:
            await self._start()

    async def stop(self) -> None:
        async with self.lock:
            self._stop()

    async def update(self, *, listen: str, upstream: str, enabled: bool) -> None:
        """PATCH semantics: a new listen or upstream restarts the proxy; toxics are kept."""
        async with self.lock:
            if listen != self.listen or upstream != self.upstream:
                self._stop()
                self.listen = listen
                self.upstream = upstream
            if enabled != self.enabled:
                if enabled:
                    await self._start()
                else:
                    self._stop()

    async def _start(self) -> None:
        if self.enabled:
            raise ProxyAlreadyStarted
        sock, bound = listen_tcp(self.listen)  # raises ListenError with Go's text
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _ClientSide(self), sock=sock, backlog=LISTEN_BACKLOG
            )
        except BaseException:
            sock.close()
            raise
        self.listen = bound
        self.enabled = True
        log.info("Started proxy %s on %s for %s", self.name, self.listen, self.upstream)

    def _stop(self) -> None:
        if not self.enabled:
            return
        self.enabled = False
        self._generation += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for side in list(self._dialing):
            side.abort()
        self._dialing.clear()
        for conn in list(self._connections):
            conn.abort()
        log.info("Terminated proxy %s", self.name)

    # -- connections ------------------------------------------------------------------

    def _client_accepted(self, client: Side) -> None:
        index = self._accepted
        self._accepted += 1
        self._dialing.add(client)
        task = asyncio.get_running_loop().create_task(
            self._connect_upstream(client, index, self._generation)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect_upstream(self, client: Side, index: int, generation: int) -> None:
        upstream = Side()
        try:
            host, port = dial_target(self.upstream)
            await asyncio.get_running_loop().create_connection(lambda: upstream, host, port)
        except (OSError, AddressError) as exc:
            log.warning("Unable to open connection to upstream %s: %s", self.upstream, exc)
            self._dialing.discard(client)
            if client.has_unread:
                # The real server never read it, so its close was an RST: make ours one too.
                client.set_linger_zero()
            client.close()
            return
        self._dialing.discard(client)
        if client.lost or generation != self._generation:
            upstream.abort()
            client.abort()
            return
        conn = Connection(self, client, upstream, index)
        self._connections.add(conn)
        conn.start()
        client.hold(HOLD_DIAL, False)
