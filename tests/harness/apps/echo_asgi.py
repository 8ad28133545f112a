"""A tiny ASGI service for runtime tests: `/health` and `/hello`, no framework (starts fast)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def send_json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    name = os.environ.get("SERVICE_NAME", "echo")
    if scope["path"] == "/health":
        await send_json(send, 200, {"status": "ok", "service": name})
    elif scope["path"] == "/hello":
        await send_json(send, 200, {"hello": name, "pid": os.getpid()})
    elif scope["path"] == "/env":
        key = scope["query_string"].decode()
        await send_json(send, 200, {key: os.environ.get(key)})
    else:
        await send_json(send, 404, {"error": "not_found"})
