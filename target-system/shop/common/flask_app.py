"""The shop's HTTP conventions (`shop.common.conventions`) for a Flask app, as
`shop.common.app` applies them to FastAPI. Imported by Flask services only, so FastAPI ones
never load Flask (and this module never loads FastAPI).

- `X-Request-ID`: taken from the request (when well formed) or created, kept in the request
  context for logs and outbound calls, echoed on the response.
- `shop_http_requests_total` / `shop_http_request_duration_seconds` by route template
  (`/payments/{payment_id}`, as FastAPI names it), one access log line per request.
- Every error is JSON `{"error", "detail", "request_id"}`: `ApiError`s with their status,
  Werkzeug's HTTP errors (404, 405 with `Allow`, ...) and, as a last resort, a logged 500.
- Methods: HEAD wherever GET is (Werkzeug does it), no automatic OPTIONS (as on FastAPI).
- `GET /health`, `GET /ready` (database ping) and `GET /metrics`.
- `json_body` / `validated`: malformed JSON is a 400, a body that does not fit the model a 422.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shop.common import metrics
from shop.common.context import (
    REQUEST_ID_HEADER,
    accept_request_id,
    reset_request_id,
    set_request_id,
)
from shop.common.conventions import allow_header, error_code, readiness, record_request
from shop.common.errors import ApiError, error_body

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_FLASK_PARAM = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def route_template(rule: str) -> str:
    """Flask's `/payments/<int:payment_id>` as `/payments/{payment_id}`."""
    return _FLASK_PARAM.sub(r"{\1}", rule)


def install_conventions(app: Flask, *, service: str, engine: Engine) -> None:
    """Add request ids, metrics, JSON errors and the /health, /ready, /metrics routes.

    Call it before registering any route: it turns Flask's automatic OPTIONS off.
    """
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.before_request(_start_request)
    app.after_request(_make_response_finisher(service))
    app.teardown_request(_end_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    _add_probe_routes(app, service=service, engine=engine)


def _start_request() -> None:
    g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id_token = set_request_id(g.request_id)
    g.started = time.perf_counter()


def _make_response_finisher(service: str) -> Callable[[Response], Response]:
    def finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        rule = request.url_rule
        record_request(
            service=service,
            method=request.method,
            path=request.path,
            route=route_template(rule.rule) if rule is not None else None,
            status=response.status_code,
            duration=time.perf_counter() - g.get("started", time.perf_counter()),
        )
        return response

    return finish


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        reset_request_id(token)


def json_response(
    body: Any, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _api_error(exc: ApiError) -> Response:
    if exc.status_code >= 500:
        logger.warning("answered %s %s: %s", exc.status_code, exc.error, exc.detail)
    return json_response(exc.body(), exc.status_code, headers=exc.headers)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    headers = {k: v for k, v in exc.get_response().headers.items() if k.lower() == "retry-after"}
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = allow_header(exc.valid_methods or ())
    return json_response(error_body(error_code(code), exc.description), code, headers=headers)


def _unexpected_error(exc: Exception) -> Response:
    logger.exception("unhandled error")
    return json_response(error_body("internal_error", "an unexpected error occurred"), 500)


def json_body() -> Any:
    """The request body as JSON, or a 400 `malformed_json` (any content type is tried)."""
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from exc


def validated(model: type[ModelT], data: Any, *, location: str | None = None) -> ModelT:
    """`data` as `model`, or a 422 `validation_error` listing what is wrong and where.

    `location` ("body", "query", "header") prefixes each error's `loc`, as FastAPI does.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", validation_details(exc, location)) from exc


def validation_details(exc: ValidationError, location: str | None) -> list[dict[str, Any]]:
    prefix = [location] if location else []
    details = []
    for item in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = [part if isinstance(part, int) else str(part) for part in item["loc"]]
        details.append({"loc": [*prefix, *loc], "msg": item["msg"], "type": item["type"]})
    return details


def _add_probe_routes(app: Flask, *, service: str, engine: Engine) -> None:
    @app.get("/health")
    def health() -> Response:
        return json_response({"status": "ok", "service": service})

    @app.get("/ready")
    def ready() -> Response:
        status, body = readiness(service=service, engine=engine, breakers={})
        return json_response(body, status)

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        payload, content_type = metrics.render_latest()
        return Response(payload, status=200, content_type=content_type)
