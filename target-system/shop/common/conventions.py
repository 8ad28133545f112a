"""The HTTP conventions every shop service keeps, whatever its framework (no FastAPI nor Flask
here: `shop.common.app` applies them to FastAPI, `shop.common.flask_app` to Flask).

- Error codes: an HTTP error without a more specific code is named by its status
  (`405` -> `method_not_allowed`), the same on every service.
- Methods: every path that serves GET also serves HEAD (RFC 9110: GET without the body);
  OPTIONS is not served. A 405 lists in `Allow` exactly what the path serves.
- Metrics and access log: one `shop_http_requests_total` / `..._duration_seconds` sample and
  one JSON `request` log line per request, labelled with the route template.
- `/ready`: 200 when the database answers, else 503, with each dependency's breaker state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from sqlalchemy import Engine

from shop.common import metrics
from shop.common.db import ping

access_logger = logging.getLogger("shop.app")

UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no route matched."""

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Method labels kept as they are; any other method is counted as `OTHER`."""

QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})
"""Routes probed all the time: their access log lines are DEBUG, not INFO."""

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_code(status: int) -> str:
    """The machine code of an HTTP error that has no more specific one: from `ERROR_CODES`,
    else the status phrase (`502` -> `bad_gateway`), else `http_<status>`."""
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"http_{status}"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def allow_header(methods: Iterable[str]) -> str:
    """The `Allow` value for a path serving `methods`: sorted, HEAD wherever GET is."""
    allowed = {method.upper() for method in methods} - {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


def record_request(
    *, service: str, method: str, path: str, route: str | None, status: int, duration: float
) -> None:
    """Count the request in the metrics contract and write its access log line."""
    template = route or UNMATCHED_ROUTE
    labels = {
        "service": service,
        "method": method if method in KNOWN_METHODS else "OTHER",
        "route": template,
    }
    metrics.HTTP_REQUESTS.labels(**labels, status=str(status)).inc()
    metrics.HTTP_REQUEST_DURATION.labels(**labels).observe(duration)
    access_logger.log(
        logging.DEBUG if template in QUIET_ROUTES else logging.INFO,
        "request",
        extra={
            "method": method,
            "path": path,
            "route": template,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
        },
    )


def readiness(
    *, service: str, engine: Engine, breakers: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    """(status, body) of `GET /ready`; `breakers` maps each dependency to its breaker state."""
    database_ok = ping(engine)
    body = {
        "status": "ready" if database_ok else "not_ready",
        "service": service,
        "database": "ok" if database_ok else "error",
        "dependencies": {name: {"breaker": state} for name, state in breakers.items()},
    }
    return (200 if database_ok else 503), body
