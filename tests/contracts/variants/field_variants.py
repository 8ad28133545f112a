"""Provider variants that break one field a consumer reads, for the "contracts bite" tests.

Each wraps the real service and rewrites its JSON answers (test-mode routes excepted), so
the variant differs from the real provider in exactly that one field.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shop.inventory.app import build_app as build_inventory
from shop.inventory.settings import InventorySettings
from shop.users.app import build_app as build_users
from shop.users.settings import UsersSettings

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]


def rewrite(value: Any, change: Callable[[str, Any], tuple[str, Any]]) -> Any:
    """`value` with `change(key, item)` applied to every key of every object in it."""
    if isinstance(value, dict):
        return dict(change(k, rewrite(v, change)) for k, v in value.items())
    if isinstance(value, list):
        return [rewrite(v, change) for v in value]
    return value


class JsonAnswerChange:
    """Pure ASGI middleware: buffers each JSON answer and rewrites it with `change`."""

    def __init__(self, app: ASGIApp, change: Callable[[str, Any], tuple[str, Any]]) -> None:
        self.app = app
        self.change = change

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_test/"):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._answer(start, b"".join(chunks), send)

        await self.app(scope, receive, buffered)

    async def _answer(self, start: Message, body: bytes, send: Send) -> None:
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        if any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
            body = json.dumps(rewrite(json.loads(body), self.change)).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _rename_email(key: str, value: Any) -> tuple[str, Any]:
    return ("mail" if key == "email" else key), value


def _price_as_text(key: str, value: Any) -> tuple[str, Any]:
    return key, (str(value) if key == "price_cents" else value)


# users answering `mail` instead of `email`.
renamed_users = JsonAnswerChange(build_users(UsersSettings()), _rename_email)
# inventory answering `"price_cents": "1250"` (a string) instead of a number.
retyped_inventory = JsonAnswerChange(build_inventory(InventorySettings()), _price_as_text)
