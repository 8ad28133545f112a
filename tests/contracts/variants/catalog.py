"""A small third-party-style provider for the conventions tests: a catalog of items.

It knows nothing of the harness. Its Pact provider-state route is its author's choice: at
`/pact/states`, and only when CATALOG_PACT_STATES is set (its test-only switch). It counts
the state-change calls it gets (`GET /pact/calls`), so a test can see whether the verifier
called it.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException

app = FastAPI(title="catalog")
_items: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "pen"}}
_state_calls: list[dict[str, Any]] = []


@app.get("/items")
def list_items() -> list[dict[str, Any]]:
    return sorted(_items.values(), key=lambda item: item["id"])


@app.get("/items/{item_id}")
def get_item(item_id: int) -> dict[str, Any]:
    if item_id not in _items:
        raise HTTPException(status_code=404, detail="no such item")
    return _items[item_id]


if os.environ.get("CATALOG_PACT_STATES"):

    @app.post("/pact/states")
    def provider_state(change: dict[str, Any]) -> dict[str, Any]:
        _state_calls.append(change)
        params = change.get("params") or {}
        if change.get("state") == "an item exists" and change.get("action") == "setup":
            item_id = int(params.get("id", 7))
            _items[item_id] = {"id": item_id, "name": str(params.get("name", "ink"))}
        return {}

    @app.get("/pact/calls")
    def state_calls() -> list[dict[str, Any]]:
        return _state_calls
