"""The toy system's callee: names, and no OpenAPI document (the harness skips it)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(title="toy back", openapi_url=None)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/names/{name}")
def name(name: str) -> dict[str, str]:
    return {"name": name}
