"""What node-shop's consumer tests share: the bodies the providers answer, as matchers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pact import match

from harness.contracts.consumer import timestamp

JSON = "application/json"
# Nothing listens here: a dependency a test does not use must never be called.
UNUSED_URL = "http://127.0.0.1:9"

StartConsumer = Callable[..., str]
"""The `start_consumer` fixture: `start_consumer("gateway", USERS_URL=...)` -> its base URL."""


def error_body(code: str) -> dict[str, Any]:
    """node-shop's error shape: a fixed code and a human message."""
    return {"error": match.regex(code, regex=f"^{code}$"), "message": match.str("why")}


def user_body(user_id: int = 7) -> dict[str, Any]:
    """A user as users answers it; the gateway relays it to its callers as is."""
    return {
        "id": match.int(user_id),
        "name": match.str("Ada Lovelace"),
        "email": match.regex("ada@example.test", regex=r"^[^@\s]+@[^@\s]+$"),
    }


def order_body(order_id: int = 42, user_id: int = 7) -> dict[str, Any]:
    """An order as orders answers it; the gateway relays it as is."""
    return {
        "id": match.int(order_id),
        "user_id": match.int(user_id),
        "items": match.each_like({"sku": match.str("SKU-1"), "quantity": match.int(2)}, min=1),
        "total_quantity": match.int(2),
        "status": match.regex("accepted", regex=r"^accepted$"),
        "created_at": timestamp("2026-01-31T12:00:00.000Z"),
    }
