"""The Toxiproxy HTTP API, answering as the real server (v2.8.0) does.

Routing follows gorilla/mux as the real server uses it: the path is cleaned first (a path that
changes gets a 301 to the clean one), a known path with another method gets 405 with an empty
body, anything else 404 `404 page not found`; none of those carry a request id. Routed
requests get `X-Toxiproxy-Request-Id`, a `Mozilla/` user agent gets 403, and a handler that
takes over 25 s gets 503 (it finishes in the background, like Go's `TimeoutHandler`).

Success bodies are compact JSON (`application/json`); errors go through Go's `http.Error`:
`text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`, and
`{"error":"...","status":N}` plus a newline.

The version reported is 2.8.0: this server implements that version's API and behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

from harness.faultproxy import gojson
from harness.faultproxy.collection import PROXY_TYPE, ProxyCollection, decode_body
from harness.faultproxy.errors import ApiError
from harness.faultproxy.gojson import BOOL, GoField, GoStruct
from harness.faultproxy.httpserver import Request, Response
from harness.faultproxy.netaddr import ListenError
from harness.faultproxy.proxy import Proxy, ProxyAlreadyStarted
from harness.faultproxy.xid import new_xid

__all__ = ["TOXIPROXY_VERSION", "ToxiproxyApi", "clean_path"]

log = logging.getLogger("harness.faultproxy")

TOXIPROXY_VERSION = "2.8.0"
HANDLER_TIMEOUT = 25.0
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"

Params = dict[str, str]
RouteHandler = Callable[[Request, Params], Awaitable[Response]]


def clean_path(path: str) -> str:
    """gorilla/mux `cleanPath`: Go's `path.Clean`, keeping a trailing slash."""
    if path == "":
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    cleaned = "/" + "/".join(parts)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def json_response(status: int, value: Any) -> Response:
    return Response(status, {"Content-Type": JSON}, gojson.marshal(value))


def error_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """Go's `http.Error`."""
    merged = dict(headers or {})
    merged.update({"Content-Type": TEXT, "X-Content-Type-Options": "nosniff"})
    return Response(status, merged, text.encode("utf-8", "surrogateescape") + b"\n")


def api_error_response(error: ApiError) -> Response:
    body = gojson.marshal({"error": error.message, "status": error.status})
    return error_response(error.status, body.decode("utf-8", "surrogateescape"))


NOT_FOUND = error_response(404, "404 page not found")

# The body of POST /proxies/{proxy}/requests (an extension: request counting).
_COUNTING = GoStruct("api.Counting", "Counting", (GoField("enabled", BOOL),))


class ToxiproxyApi:
    """The request handler of the API server."""

    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection
        self._background: set[asyncio.Task[Response]] = set()
        self.routes: list[tuple[tuple[str, ...], dict[str, RouteHandler]]] = [
            (("reset",), {"POST": self.reset}),
            (("proxies",), {"GET": self.proxy_index, "POST": self.proxy_create}),
            (("populate",), {"POST": self.populate}),
            (
                ("proxies", "{proxy}"),
                {
                    "GET": self.proxy_show,
                    "POST": self.proxy_update,
                    "PATCH": self.proxy_update,
                    "DELETE": self.proxy_delete,
                },
            ),
            (
                ("proxies", "{proxy}", "toxics"),
                {"GET": self.toxic_index, "POST": self.toxic_create},
            ),
            (
                ("proxies", "{proxy}", "toxics", "{toxic}"),
                {
                    "GET": self.toxic_show,
                    "POST": self.toxic_update,
                    "PATCH": self.toxic_update,
                    "DELETE": self.toxic_delete,
                },
            ),
            (
                ("proxies", "{proxy}", "requests"),
                {
                    "GET": self.requests_show,
                    "POST": self.requests_counting,
                    "DELETE": self.requests_clear,
                },
            ),
            (("version",), {"GET": self.version}),
        ]

    # -- routing --------------------------------------------------------------------------

    async def __call__(self, request: Request) -> Response:
        cleaned = clean_path(request.path)
        if cleaned != request.path:
            location = quote(cleaned, safe="/:@!$&'()*+,;=-._~")
            if request.query:
                location += "?" + request.query
            return Response(301, {"Location": location})
        route = self._match(request.method, cleaned)
        if route is None:
            return NOT_FOUND
        if isinstance(route, Response):
            return route
        handler, params = route
        headers = {"X-Toxiproxy-Request-Id": new_xid()}
        if (request.header("User-Agent") or "").startswith("Mozilla/"):
            return error_response(403, "User agent not allowed", headers)
        response = await self._run(handler, request, params)
        response.headers.update(headers)
        return response

    def _match(self, method: str, path: str) -> tuple[RouteHandler, Params] | Response | None:
        segments = path[1:].split("/") if path.startswith("/") else [path]
        method_mismatch = False
        for template, methods in self.routes:
            params = _match_template(template, segments)
            if params is None:
                continue
            handler = methods.get(method)
            if handler is None:
                method_mismatch = True
                continue
            return handler, params
        return Response(405) if method_mismatch else None

    async def _run(self, handler: RouteHandler, request: Request, params: Params) -> Response:
        task = asyncio.ensure_future(self._guarded(handler, request, params))
        done, _ = await asyncio.wait((task,), timeout=HANDLER_TIMEOUT)
        if task in done:
            return task.result()
        # Go's TimeoutHandler answers 503 and lets the handler run on.
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return Response(503)

    async def _guarded(self, handler: RouteHandler, request: Request, params: Params) -> Response:
        try:
            return await handler(request, params)
        except ApiError as exc:
            return api_error_response(exc)
        except ListenError as exc:
            return api_error_response(ApiError.internal(str(exc)))
        except Exception as exc:
            log.exception("API handler failed: %s %s", request.method, request.path)
            return api_error_response(ApiError.internal(str(exc)))

    # -- handlers -------------------------------------------------------------------------

    async def version(self, request: Request, params: Params) -> Response:
        body = f'{{"version": "{TOXIPROXY_VERSION}"}}\n'.encode()
        return Response(200, {"Content-Type": "application/json;charset=utf-8"}, body)

    async def reset(self, request: Request, params: Params) -> Response:
        for proxy in list(self.collection.proxies.values()):
            with contextlib.suppress(ProxyAlreadyStarted):
                await proxy.start()
            await proxy.toxics.reset()
        return Response(204)

    async def proxy_index(self, request: Request, params: Params) -> Response:
        proxies = self.collection.proxies
        # Go marshals a map: keys sorted.
        return json_response(200, {name: await _show(proxies[name]) for name in sorted(proxies)})

    async def proxy_create(self, request: Request, params: Params) -> Response:
        fields = decode_body(request.body, PROXY_TYPE) or {}
        if not fields.get("name"):
            raise ApiError.missing_field("name")
        if not fields.get("upstream"):
            raise ApiError.missing_field("upstream")
        proxy = self.collection.new_proxy(
            fields["name"], fields.get("listen", ""), fields["upstream"]
        )
        await self.collection.add(proxy, start=fields.get("enabled", True))
        return json_response(201, await _show(proxy))

    async def populate(self, request: Request, params: Params) -> Response:
        proxies, error = await self.collection.populate(request.body)
        payload: dict[str, Any] = {}
        if error is not None:
            payload.update(error=error.message, status=error.status)
        payload["proxies"] = [await _show(proxy) for proxy in proxies] or None
        return json_response(201 if error is None else error.status, payload)

    async def proxy_show(self, request: Request, params: Params) -> Response:
        return json_response(200, await _show(self.collection.get(params["proxy"])))

    async def proxy_update(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        fields = decode_body(request.body, PROXY_TYPE) or {}
        await proxy.update(
            listen=fields.get("listen", proxy.listen),
            upstream=fields.get("upstream", proxy.upstream),
            enabled=fields.get("enabled", proxy.enabled),
        )
        return json_response(200, await _show(proxy))

    async def proxy_delete(self, request: Request, params: Params) -> Response:
        await self.collection.remove(params["proxy"])
        return Response(204)

    async def toxic_index(self, request: Request, params: Params) -> Response:
        toxics = self.collection.get(params["proxy"]).toxics
        async with toxics.lock:
            return json_response(200, [toxic.to_json() for toxic in toxics.toxics()])

    async def toxic_create(self, request: Request, params: Params) -> Response:
        toxics = self.collection.get(params["proxy"]).toxics
        wrapper = await toxics.add_json(request.body)
        return json_response(200, wrapper.to_json())

    async def toxic_show(self, request: Request, params: Params) -> Response:
        toxics = self.collection.get(params["proxy"]).toxics
        async with toxics.lock:
            wrapper = toxics.find(params["toxic"])
            if wrapper is None:
                raise ApiError.toxic_not_found()
            return json_response(200, wrapper.to_json())

    async def toxic_update(self, request: Request, params: Params) -> Response:
        toxics = self.collection.get(params["proxy"]).toxics
        wrapper = await toxics.update_json(params["toxic"], request.body)
        return json_response(200, wrapper.to_json())

    async def toxic_delete(self, request: Request, params: Params) -> Response:
        toxics = self.collection.get(params["proxy"]).toxics
        await toxics.remove(params["toxic"])
        return Response(204)

    # -- extension: requests the proxy forwarded (see README.md) -----------------------------

    async def requests_show(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        header = parse_qs(request.query).get("header", [""])[-1]
        return json_response(200, proxy.requests.counts(header or None))

    async def requests_counting(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        fields = decode_body(request.body, _COUNTING) or {}
        if "enabled" not in fields:
            raise ApiError.missing_field("enabled")
        proxy.requests.enabled = fields["enabled"]
        proxy.http_changed()
        return json_response(200, proxy.requests.counts(None))

    async def requests_clear(self, request: Request, params: Params) -> Response:
        self.collection.get(params["proxy"]).requests.clear()
        return Response(204)


def _match_template(template: tuple[str, ...], segments: list[str]) -> Params | None:
    if len(template) != len(segments):
        return None
    params: Params = {}
    for part, segment in zip(template, segments, strict=True):
        if part.startswith("{"):
            if not segment:
                return None
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


async def _show(proxy: Proxy) -> dict[str, Any]:
    async with proxy.toxics.lock:
        return proxy.to_json()
