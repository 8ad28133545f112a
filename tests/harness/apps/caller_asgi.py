"""A tiny ASGI service that calls its dependencies through the URLs in its environment.

`GET /call/<dep>` calls `GET {<DEP>_URL}/hello` and reports what the caller saw: the status
and body, or the kind of failure (`connect_error`, `timeout`, ...), with the elapsed time.
"""

from __future__ import annotations

import os
import ssl
import time

import httpx
from echo_asgi import Receive, Scope, Send, lifespan, send_json

# One TLS context for the whole process: a client per request would otherwise read the CA
# bundle each time (about 50 ms of CPU).
TLS = ssl.create_default_context()


async def call(dependency: str) -> tuple[int, dict[str, object]]:
    base = os.environ.get(f"{dependency.upper()}_URL")
    if base is None:
        return 404, {"error": "unknown_dependency", "dependency": dependency}
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=5.0, trust_env=False, verify=TLS) as client:
            response = await client.get(f"{base}/hello")
    except httpx.ConnectError:
        outcome: dict[str, object] = {"error": "connect_error"}
    except httpx.TimeoutException:
        outcome = {"error": "timeout"}
    except httpx.HTTPError as exc:
        outcome = {"error": type(exc).__name__}
    else:
        outcome = {"status": response.status_code, "body": response.json()}
    outcome["elapsed"] = time.monotonic() - started
    outcome["via"] = base
    return (502 if "error" in outcome else 200), outcome


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    path: str = scope["path"]
    if path == "/health":
        await send_json(send, 200, {"status": "ok", "service": "caller"})
    elif path.startswith("/call/"):
        status, body = await call(path.removeprefix("/call/"))
        await send_json(send, status, body)
    else:
        await send_json(send, 404, {"error": "not_found"})
