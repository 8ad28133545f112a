"""Running the fault proxy: in-process (async or on a thread) or as a blocking server.

* `FaultProxyServer` - async context manager for code that owns an event loop.
* `start_in_thread` - the same on a background thread with its own loop, for sync code.
* `serve` - blocking, for the command line; stops cleanly on SIGINT / SIGTERM.

Each uses uvloop when it is installed. `config` is a JSON file shaped like a `/populate`
body, loaded at start; unlike the real server (which logs a bad config file and carries on),
a config file that cannot be read or applied is an error at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from harness.faultproxy.api import ToxiproxyApi
from harness.faultproxy.collection import ProxyCollection
from harness.faultproxy.httpserver import serve_connection
from harness.faultproxy.netaddr import DEFAULT_HOST, DEFAULT_PORT, format_addr, listen_tcp

__all__ = [
    "ConfigError",
    "FaultProxyServer",
    "ServerHandle",
    "event_loop_factory",
    "serve",
    "start_in_thread",
]

log = logging.getLogger("harness.faultproxy")


class ConfigError(ValueError):
    """The `--config` file could not be read or applied; the message names file and problem."""


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed, else asyncio's default."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.new_event_loop
    return uvloop.new_event_loop


class FaultProxyServer:
    """The Toxiproxy-compatible API server and its proxies, on the running event loop.

    `port=0` (the default here) picks a free port; `url` tells which. `seed` makes toxicity
    draws, jitter and slicing replayable (per proxy, connection number and direction).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        config: str | Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.config = Path(config) if config is not None else None
        self.seed = seed
        self.proxies = ProxyCollection(seed=seed)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._port: int | None = None
        self._url_host = host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fault proxy server is not started")
        return self._port

    @property
    def url(self) -> str:
        """Where clients reach the API (loopback when bound to every interface)."""
        return f"http://{format_addr(self._url_host, self.port)}"

    async def start(self) -> None:
        api = ToxiproxyApi(self.proxies)

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._connections.add(task)
            try:
                await serve_connection(reader, writer, api)
            except asyncio.CancelledError:
                # Server shutdown: end quietly (asyncio's stream callback would log a
                # cancelled connection task as an error).
                writer.close()
            finally:
                if task is not None:
                    self._connections.discard(task)

        # Bind as the real server does (a host name binds its first IPv4 address); a failure
        # raises ListenError, an OSError with Go's text.
        sock, bound = listen_tcp(format_addr(self.host, self.requested_port))
        self._server = await asyncio.start_server(on_connection, sock=sock)
        bound_host, _, bound_port = bound.rpartition(":")
        bound_host = bound_host.strip("[]")
        self._url_host = "127.0.0.1" if bound_host in ("::", "0.0.0.0") else bound_host
        self._port = int(bound_port)
        log.info("Starting Toxiproxy HTTP server on %s", self.url)
        if self.config is not None:
            try:
                await self._load_config(self.config)
            except BaseException:
                await self.stop()
                raise

    async def _load_config(self, path: Path) -> None:
        try:
            body = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise ConfigError(f"config {path}: cannot read: {exc.strerror or exc}") from None
        proxies, error = await self.proxies.populate(body)
        if error is not None:
            raise ConfigError(f"config {path}: {error.message}")
        log.info("Populated %d proxies from %s", len(proxies), path)

    async def stop(self) -> None:
        """Close the API and every proxy (listeners and connections)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=1.0)
        await self.proxies.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ServerHandle:
    """A `FaultProxyServer` running on a background thread (see `start_in_thread`)."""

    def __init__(self, server: FaultProxyServer) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="faultproxy", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def _start(self, timeout: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the fault proxy did not start within {timeout:g} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _main(self) -> None:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await self.server.stop()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join its thread (idempotent)."""
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stopped.set)
        self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    config: str | Path | None = None,
    seed: int | None = None,
    timeout: float = 10.0,
) -> ServerHandle:
    """Start a fault proxy server on a daemon thread; returns once it accepts requests.

    Use the handle's `url`, and `stop()` it (or use it as a context manager).
    """
    handle = ServerHandle(FaultProxyServer(host=host, port=port, config=config, seed=seed))
    handle._start(timeout)
    return handle


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    config: str | Path | None = None,
    seed: int | None = None,
) -> None:
    """Run the fault proxy until SIGINT or SIGTERM (blocking). Raises `ConfigError` for a bad
    config file and `OSError` when the API address cannot be bound."""

    async def main() -> None:
        server = FaultProxyServer(host=host, port=port, config=config, seed=seed)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        log.info("API listening on %s (Toxiproxy-compatible, seed %s)", server.url, seed)
        try:
            await stop.wait()
        finally:
            await server.stop()
            log.info("Shut down")

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())
