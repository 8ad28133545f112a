"""A tiny WSGI service (served by gunicorn in the runtime tests)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path in ("/health", "/hello"):
        body = {"status": "ok", "hello": "legacy", "pid": os.getpid()}
        status = "200 OK"
    else:
        body, status = {"error": "not_found"}, "404 Not Found"
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [payload]
