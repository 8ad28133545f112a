"""Network faults on a system's edges, through any Toxiproxy-API server.

This is THE one module that talks to a Toxiproxy server (the embedded fault proxy or a real
Toxiproxy at `TOXIPROXY_URL`). It wraps the toxiproxy-python client, whose `APIConsumer`
keeps the server's host and port in class attributes shared by the whole process and sends
requests without a timeout: every call here takes a lock, points `APIConsumer` at this
client's server, and passes a timeout. The client's exceptions (and the 500s it lets
through) become `FaultProxyError` subclasses whose messages say what was attempted, where,
and what the server answered.

`FaultInjector` speaks in edges (`orders->payments`); `ToxiproxyClient` speaks in proxies.
HTTP toxics (`http_error`, `http_drop`, `http_delay`) and request counts are extensions of the
embedded fault proxy; a real Toxiproxy rejects them, which raises `FaultProxyUnsupported`.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from harness.topology import normalize_edge_name

__all__ = [
    "DEFAULT_TIMEOUT",
    "TOXIPROXY_URL_ENV",
    "FaultInjector",
    "FaultProxyError",
    "FaultProxyUnavailable",
    "FaultProxyUnsupported",
    "FaultRejected",
    "FaultTargetExists",
    "FaultTargetNotFound",
    "ProxyBaseline",
    "RequestCount",
    "RequestCounts",
    "ToxiproxyClient",
    "UnknownEdgeError",
    "toxiproxy_url_from_env",
]

TOXIPROXY_URL_ENV = "TOXIPROXY_URL"
DEFAULT_TIMEOUT = 5.0
STREAMS = ("upstream", "downstream")

# APIConsumer.host/port are process-global: one request at a time, each pointed at its server.
_API_LOCK = threading.Lock()


class FaultProxyError(RuntimeError):
    """A fault could not be applied, listed or removed."""


class FaultProxyUnavailable(FaultProxyError):
    """No fault proxy answers (or none is configured for this system)."""


class FaultTargetNotFound(FaultProxyError):
    """The server has no such proxy or toxic (404)."""


class FaultTargetExists(FaultProxyError):
    """A proxy or toxic with that name already exists (409)."""


class FaultRejected(FaultProxyError):
    """The server rejected the request as invalid (400), e.g. an unknown toxic type."""


class FaultProxyUnsupported(FaultRejected):
    """The server lacks an extension of the embedded fault proxy (HTTP toxics, request counts)."""


class UnknownEdgeError(FaultProxyError, KeyError):
    """The edge is not part of this system."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class RequestCount:
    """Requests forwarded with one method, path and value of the chosen header."""

    method: str
    path: str
    value: str | None  # None: the header was absent
    count: int


@dataclass(frozen=True)
class RequestCounts:
    """What a proxy forwarded since counting began (or was reset)."""

    header: str
    total: int
    counts: tuple[RequestCount, ...]

    def by_value(self) -> dict[str | None, int]:
        """Requests per value of the header, over every method and path."""
        totals: Counter[str | None] = Counter()
        for row in self.counts:
            totals[row.value] += row.count
        return dict(totals)


def toxiproxy_url_from_env() -> str | None:
    """`TOXIPROXY_URL` when set and non-empty (a real Toxiproxy server to use), else None."""
    value = os.environ.get(TOXIPROXY_URL_ENV, "").strip()
    return value or None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise FaultProxyError(
            f"fault proxy URL must look like 'http://HOST:PORT' (toxiproxy-python speaks plain "
            f"HTTP), got {url!r}"
        )
    return parts.hostname, parts.port


def _body_text(content: Any) -> str:
    text = content.decode(errors="replace") if isinstance(content, bytes) else str(content)
    return text.strip()


class ToxiproxyClient:
    """One Toxiproxy-API server, by proxy name. Every method raises a `FaultProxyError`."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """`url`: the API address, `http://127.0.0.1:8474`; `timeout`: seconds per request."""
        self.host, self.port = _host_port(url)
        self.url = f"http://{self.host}:{self.port}"
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.url!r})"

    # -- transport ---------------------------------------------------------------------------

    def _call(
        self, method: Literal["get", "post", "delete"], path: str, *, what: str, body: Any = None
    ) -> requests.Response:
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if body is not None:
            kwargs["json"] = body
        try:
            with _API_LOCK:
                APIConsumer.host, APIConsumer.port = self.host, self.port
                response: requests.Response = getattr(APIConsumer, method)(path, **kwargs)
        except NotFound as exc:
            raise FaultTargetNotFound(f"{what}: {_body_text(exc.args[0])}") from None
        except ProxyExists as exc:
            raise FaultTargetExists(f"{what}: {_body_text(exc.args[0])}") from None
        except InvalidToxic as exc:
            raise FaultRejected(f"{what}: {_body_text(exc.args[0])}") from None
        except requests.RequestException as exc:
            raise FaultProxyUnavailable(
                f"{what}: no fault proxy answers at {self.url} ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:  # toxiproxy-python lets 5xx (e.g. listen errors) through
            raise FaultProxyError(
                f"{what}: HTTP {response.status_code} {_body_text(response.content)}"
            )
        return response

    @staticmethod
    def _proxy_path(proxy: str, *rest: str) -> str:
        return "/".join(["/proxies", quote(proxy, safe=""), *(quote(r, safe="") for r in rest)])

    # -- server ------------------------------------------------------------------------------

    def version(self) -> str:
        data = self._call("get", "/version", what=f"version of {self.url}").json()
        return str(data.get("version", ""))

    def is_up(self) -> bool:
        """True when the API answers `/version`."""
        try:
            self.version()
        except FaultProxyError:
            return False
        return True

    def reset(self) -> None:
        """Every proxy on the server enabled, every toxic removed (`POST /reset`)."""
        self._call("post", "/reset", what=f"reset {self.url}")

    # -- proxies -----------------------------------------------------------------------------

    def proxies(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = self._call(
            "get", "/proxies", what=f"list proxies on {self.url}"
        ).json()
        return data

    def proxy(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = self._call(
            "get", self._proxy_path(name), what=f"proxy {name!r} on {self.url}"
        ).json()
        return data

    def create_proxy(
        self, name: str, *, upstream: str, listen: str = "127.0.0.1:0", enabled: bool = True
    ) -> dict[str, Any]:
        """Create proxy `name` forwarding `listen` to `upstream`; returns it (bound `listen`)."""
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        data: dict[str, Any] = self._call(
            "post", "/proxies", what=f"create proxy {name!r} on {self.url}", body=body
        ).json()
        return data

    def delete_proxy(self, name: str) -> None:
        self._call("delete", self._proxy_path(name), what=f"delete proxy {name!r} on {self.url}")

    def set_enabled(self, name: str, enabled: bool) -> dict[str, Any]:
        """Enable (listen again, same port) or disable (close listener and connections)."""
        verb = "enable" if enabled else "disable"
        data: dict[str, Any] = self._call(
            "post",
            self._proxy_path(name),
            what=f"{verb} proxy {name!r} on {self.url}",
            body={"enabled": enabled},
        ).json()
        return data

    # -- toxics ------------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._call(
            "get", self._proxy_path(proxy, "toxics"), what=f"toxics of proxy {proxy!r}"
        ).json()
        return data

    def add_toxic(
        self,
        proxy: str,
        *,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "name": name or f"{type}_{stream}",
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": dict(attributes or {}),
        }
        what = f"add {type} toxic {body['name']!r} to proxy {proxy!r}"
        try:
            response = self._call("post", self._proxy_path(proxy, "toxics"), what=what, body=body)
        except FaultRejected as exc:
            if type.startswith("http_") and "invalid toxic type" in str(exc):
                raise self._unsupported(what) from None
            raise
        data: dict[str, Any] = response.json()
        return data

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call(
            "delete",
            self._proxy_path(proxy, "toxics", name),
            what=f"remove toxic {name!r} from proxy {proxy!r}",
        )

    # -- request counts (an extension of the embedded fault proxy) ------------------------

    def _unsupported(self, what: str) -> FaultProxyUnsupported:
        return FaultProxyUnsupported(
            f"{what}: the fault proxy at {self.url} has no HTTP toxics or request counts "
            f"(a real Toxiproxy?); they need the embedded fault proxy: unset "
            f"{TOXIPROXY_URL_ENV}, or point it at `harness toxiproxy`"
        )

    def _requests_call(
        self,
        method: Literal["get", "post", "delete"],
        proxy: str,
        *,
        what: str,
        body: Any = None,
        query: str = "",
    ) -> requests.Response:
        path = self._proxy_path(proxy, "requests") + query
        try:
            return self._call(method, path, what=what, body=body)
        except FaultTargetNotFound as exc:
            if "page not found" in str(exc):  # the route, not the proxy, is missing
                raise self._unsupported(what) from None
            raise

    def count_requests(self, proxy: str, *, enabled: bool = True) -> None:
        """Start (or stop) recording the requests `proxy` forwards."""
        verb = "start" if enabled else "stop"
        what = f"{verb} counting requests on proxy {proxy!r}"
        self._requests_call("post", proxy, what=what, body={"enabled": enabled})

    def request_counts(self, proxy: str, *, header: str | None = None) -> RequestCounts:
        """Requests `proxy` forwarded, by method, path and the value of `header`."""
        query = f"?header={quote(header, safe='')}" if header else ""
        what = f"request counts of proxy {proxy!r}"
        data = self._requests_call("get", proxy, what=what, query=query).json()
        rows = tuple(
            RequestCount(row["method"], row["path"], row["value"], int(row["count"]))
            for row in data["counts"]
        )
        return RequestCounts(header or "", int(data["total"]), rows)

    def reset_request_counts(self, proxy: str) -> None:
        self._requests_call("delete", proxy, what=f"reset request counts of proxy {proxy!r}")


@dataclass(frozen=True, slots=True)
class ProxyBaseline:
    """A proxy as the system found it on someone else's server: `reset` goes back to this
    (their toxics kept, enabled or not as it was) instead of a bare proxy."""

    toxics: frozenset[str] = frozenset()
    enabled: bool = True


class FaultInjector:
    """Network faults by edge name (`orders->payments`) on the proxies of one system.

    `proxies` maps each edge to its proxy's name on the server. With `client=None` (a system
    without a fault proxy, e.g. the attach backend without `TOXIPROXY_URL`) every call raises
    `FaultProxyUnavailable` carrying `unavailable_reason`. `owns_server=True` lets `reset()`
    use one `POST /reset`; otherwise only this system's proxies are touched, and a proxy with
    a `baselines` entry (keyed by proxy name: one the system found, not created) goes back to
    that baseline.
    """

    def __init__(
        self,
        client: ToxiproxyClient | None,
        proxies: Mapping[str, str],
        *,
        owns_server: bool = False,
        baselines: Mapping[str, ProxyBaseline] | None = None,
        unavailable_reason: str = "this system has no fault proxy",
    ) -> None:
        self._client = client
        self._proxies = dict(proxies)
        self._owns_server = owns_server
        self._baselines = dict(baselines or {})
        self._unavailable_reason = unavailable_reason

    def __repr__(self) -> str:
        return f"FaultInjector({self._client!r}, edges={sorted(self._proxies)})"

    @property
    def edges(self) -> list[str]:
        return sorted(self._proxies)

    @property
    def client(self) -> ToxiproxyClient:
        if self._client is None:
            raise FaultProxyUnavailable(self._unavailable_reason)
        return self._client

    def proxy_name(self, edge: str) -> str:
        """The proxy behind `edge` (accepts `orders -> payments` or `orders->payments`)."""
        key = normalize_edge_name(edge)
        try:
            return self._proxies[key]
        except KeyError:
            known = ", ".join(self.edges) or "(none)"
            raise UnknownEdgeError(f"unknown edge {edge!r}; edges are: {known}") from None

    def add_toxic(
        self,
        edge: str,
        type: str,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> str:
        """Add a toxic (`latency`, `timeout`, `reset_peer`, ...) to `edge`; returns its name.

        `stream`: `downstream` (responses) or `upstream` (requests); `toxicity`: the share of
        connections affected; `name` defaults to `<type>_<stream>`.
        """
        if stream not in STREAMS:
            raise FaultRejected(f"stream must be 'upstream' or 'downstream', got {stream!r}")
        proxy = self.proxy_name(edge)
        toxic = self.client.add_toxic(
            proxy, type=type, stream=stream, toxicity=toxicity, attributes=attributes, name=name
        )
        return str(toxic["name"])

    def remove_toxic(self, edge: str, name: str) -> None:
        proxy = self.proxy_name(edge)  # an unknown edge is the more useful error
        self.client.remove_toxic(proxy, name)

    def toxics(self, edge: str) -> list[dict[str, Any]]:
        """The toxics on `edge`, as the server reports them."""
        proxy = self.proxy_name(edge)
        return self.client.toxics(proxy)

    def count_requests(self, edge: str, *, enabled: bool = True) -> None:
        """Record the HTTP requests `edge` forwards (embedded fault proxy only)."""
        self.client.count_requests(self.proxy_name(edge), enabled=enabled)

    def request_counts(self, edge: str, *, header: str | None = None) -> RequestCounts:
        """Requests `edge` forwarded since counting began, by method, path and the value of
        `header` (e.g. `Idempotency-Key`): "reached the provider at most once" per key."""
        return self.client.request_counts(self.proxy_name(edge), header=header)

    def reset_request_counts(self, edge: str) -> None:
        self.client.reset_request_counts(self.proxy_name(edge))

    def partition(self, edge: str) -> None:
        """Cut `edge`: its proxy stops listening, so the caller gets connection refusals."""
        proxy = self.proxy_name(edge)
        self.client.set_enabled(proxy, False)

    def heal(self, edge: str) -> None:
        """Undo `partition`: the proxy listens again on the same address."""
        proxy = self.proxy_name(edge)
        self.client.set_enabled(proxy, True)

    def reset(self) -> None:
        """Remove every toxic and enable every proxy of this system."""
        if self._client is None:
            return  # nothing can have been injected
        if self._owns_server:
            self._client.reset()
            return
        for edge in self._proxies:
            self.restore(edge)

    def restore(self, edge: str) -> None:
        """Undo every fault on `edge`: the toxics this system added go, the proxy is enabled
        (or, for a proxy found on someone else's server, put back as it was found)."""
        proxy = self.proxy_name(edge)
        baseline = self._baselines.get(proxy, ProxyBaseline())
        for toxic in self.client.toxics(proxy):
            if str(toxic["name"]) not in baseline.toxics:
                self.client.remove_toxic(proxy, str(toxic["name"]))
        self.client.set_enabled(proxy, baseline.enabled)

    @contextmanager
    def toxic(
        self,
        edge: str,
        type: str,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Iterator[str]:
        """A toxic for the duration of a `with` block (removed even if the block raises)."""
        toxic_name = self.add_toxic(
            edge, type, stream=stream, toxicity=toxicity, attributes=attributes, name=name
        )
        try:
            yield toxic_name
        finally:
            self.remove_toxic(edge, toxic_name)

    @contextmanager
    def partitioned(self, edge: str) -> Iterator[None]:
        """`edge` cut for the duration of a `with` block."""
        self.partition(edge)
        try:
            yield
        finally:
            self.heal(edge)
