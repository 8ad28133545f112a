"""`create_app`: a FastAPI app with everything every shop service shares.

- `/health`, `/ready` (database ping + each dependency's breaker state), `/metrics`;
- request-id middleware (accept or create `X-Request-ID`, echo it, expose it to logs and to
  outbound calls), HTTP metrics per route template, one JSON access-log line per request,
  HEAD served wherever GET is (`shop.common.conventions` holds these shared conventions);
- the JSON error shape for 400 (malformed JSON), 404, 409, 422, 503 (`DependencyUnavailable`)
  and a catch-all that logs and answers a JSON 500;
- a lifespan that configures logging, runs the service's `lifespan_hooks` (start-up and
  shutdown work, e.g. creating tables or a periodic background task), and closes clients.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shop.common import metrics
from shop.common.client import ResilientClient
from shop.common.context import (
    REQUEST_ID_HEADER,
    accept_request_id,
    reset_request_id,
    set_request_id,
)
from shop.common.conventions import allow_header, error_code, readiness, record_request
from shop.common.errors import ApiError, ErrorBody, error_body
from shop.common.logging import configure_logging
from shop.common.settings import ServiceSettings

logger = logging.getLogger("shop.app")

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""Start-up/shutdown work: called with the app, entered at start-up, exited at shutdown."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request (e.g. undecodable JSON)"},
    422: {"model": ErrorBody, "description": "Validation error"},
}
"""OpenAPI responses every route may give; pass more per route with `responses=`."""


def error_responses(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route's errors: `{404: "No such user"}` -> ErrorBody schemas."""
    return {
        status: {"model": ErrorBody, "description": text} for status, text in descriptions.items()
    }


class HealthBody(BaseModel):
    status: Literal["ok"]
    service: str


class DependencyStatus(BaseModel):
    breaker: Literal["closed", "open", "half_open"]


class ReadyBody(BaseModel):
    status: Literal["ready", "not_ready"]
    service: str
    database: Literal["ok", "error"]
    dependencies: dict[str, DependencyStatus]


def create_app(
    *,
    service: str,
    settings: ServiceSettings,
    engine: Engine,
    dependencies: Mapping[str, ResilientClient] | None = None,
    lifespan_hooks: Sequence[LifespanHook] = (),
    title: str | None = None,
    version: str = "0.1.0",
    description: str = "",
) -> FastAPI:
    """The app for `service`, with the shared endpoints, middleware and error handlers.

    `dependencies` maps dependency names to their clients (shown by `/ready`, closed at
    shutdown). `lifespan_hooks` run in order at start-up and in reverse at shutdown; the
    engine is disposed last.
    """
    clients = dict(dependencies or {})
    app = FastAPI(
        title=title or f"shop {service}",
        version=version,
        description=description,
        lifespan=_lifespan(service, settings, engine, clients, lifespan_hooks),
        responses=ERROR_RESPONSES,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.engine = engine
    app.state.dependencies = clients
    _add_error_handlers(app)
    _add_operational_routes(app, service=service, engine=engine, clients=clients)
    app.add_middleware(RequestContextMiddleware, service=service)
    return app


def _lifespan(
    service: str,
    settings: ServiceSettings,
    engine: Engine,
    clients: Mapping[str, ResilientClient],
    hooks: Sequence[LifespanHook],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=service, level=settings.log_level)
        async with AsyncExitStack() as stack:
            stack.callback(engine.dispose)
            for client in clients.values():
                stack.push_async_callback(client.aclose)
            for hook in hooks:
                await stack.enter_async_context(hook(app))
            logger.info("service started", extra={"port": settings.port})
            yield
            logger.info("service stopping")

    return lifespan


# -- lifespan hook helpers ------------------------------------------------------------------


def run_at_startup(work: Callable[[], Awaitable[None] | None]) -> LifespanHook:
    """A hook that runs `work` (sync or async) once at start-up, e.g. creating tables."""

    @asynccontextmanager
    async def hook(_app: FastAPI) -> AsyncIterator[None]:
        result = work()
        if inspect.isawaitable(result):
            await result
        yield

    return hook


def periodic_task(
    name: str, work: Callable[[], Awaitable[Any]], *, interval: float
) -> LifespanHook:
    """A hook that runs `await work()` every `interval` seconds until shutdown.

    A failing run is logged and the loop goes on; shutdown cancels the task and waits for it.
    """

    async def loop() -> None:
        while True:
            try:
                await work()
            except Exception:
                logger.exception("background task failed", extra={"task": name})
            await asyncio.sleep(interval)

    @asynccontextmanager
    async def hook(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(), name=name)
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return hook


def register_test_reset(
    app: FastAPI, *, settings: ServiceSettings, reset: Callable[[], None]
) -> None:
    """Add `POST /_test/reset` (calls `reset`, answers 204) only when SHOP_TEST_MODE is on."""
    if not settings.shop_test_mode:
        return

    def test_reset() -> Response:
        reset()
        return Response(status_code=204)

    app.add_api_route("/_test/reset", test_reset, methods=["POST"], include_in_schema=False)


# -- operational routes ---------------------------------------------------------------------


def _add_operational_routes(
    app: FastAPI, *, service: str, engine: Engine, clients: Mapping[str, ResilientClient]
) -> None:
    @app.get("/health", tags=["operations"])
    def health() -> HealthBody:
        """Liveness: the process answers."""
        return HealthBody(status="ok", service=service)

    @app.get(
        "/ready",
        tags=["operations"],
        response_model=ReadyBody,
        responses={503: {"model": ReadyBody, "description": "The database does not answer"}},
    )
    def ready() -> JSONResponse:
        """Readiness: the database answers; shows each dependency's breaker state."""
        status, body = readiness(
            service=service,
            engine=engine,
            breakers={name: client.breaker_state.value for name, client in clients.items()},
        )
        return JSONResponse(ReadyBody.model_validate(body).model_dump(), status_code=status)

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
    )
    def prometheus_metrics() -> Response:
        """Prometheus text format (the README's metrics contract)."""
        for client in clients.values():
            _ = client.breaker_state  # an open breaker whose time is up now reads half-open
        payload, content_type = metrics.render_latest()
        return Response(payload, media_type=content_type)


# -- errors ---------------------------------------------------------------------------------


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return JSONResponse(error_body("malformed_json", errors), status_code=400)
    return JSONResponse(error_body("validation_error", errors), status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allow_header(_allowed_methods(request))
    return JSONResponse(
        error_body(error_code(exc.status_code), exc.detail),
        status_code=exc.status_code,
        headers=headers,
    )


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path.

    Starlette's 405 lists only the methods of the first route matching the path; `GET /users`
    and `POST /users` are two routes, and `Allow` must name both (RFC 9110, found by
    schemathesis' allow_header_conformance). Routes of included routers count too: FastAPI
    keeps them nested in `app.router.routes`, and `iter_route_contexts` walks them with their
    prefixes applied.
    """
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(request.url.path):
            methods.update(route.methods or ())
    return methods


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    if exc.status_code >= 500:
        logger.warning("request failed: %s", exc)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers or None)


# -- middleware -----------------------------------------------------------------------------


class RequestContextMiddleware:
    """Request id, HTTP metrics, access log, HEAD, and the JSON 500 for unhandled exceptions.

    Pure ASGI (not BaseHTTPMiddleware) so the request id contextvar reaches the endpoint,
    including sync endpoints run in the thread pool. A HEAD request is routed as a GET and
    answered without the body (FastAPI routes do not serve HEAD by themselves).
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = set_request_id(request_id)
        started_at = time.perf_counter()
        status = 500
        response_started = False
        method = scope["method"]
        if method == "HEAD":
            scope = {**scope, "method": "GET"}

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif method == "HEAD" and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if response_started:
                raise
            status = 500
            await _send_internal_error(send_with_request_id)
        finally:
            record_request(
                service=self.service,
                method=method,
                path=scope["path"],
                route=getattr(scope.get("route"), "path", None),
                status=status,
                duration=time.perf_counter() - started_at,
            )
            reset_request_id(token)


async def _send_internal_error(send: Send) -> None:
    response = JSONResponse(error_body("internal_error", "unexpected server error"), 500)
    await response(
        {"type": "http", "method": "GET", "path": "/", "headers": []},
        _no_receive,
        send,
    )


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
