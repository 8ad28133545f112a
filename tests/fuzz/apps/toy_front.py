"""The toy system's caller, with planted bugs the harness's checks must find.

`GET /welcome/{name}` asks back (`BACK_URL`) for the name. When back is unreachable it
answers a documented 503, unless TOY_OUTAGE_BUG is set: then it answers 500. With
TOY_REPLAY_BUG set, `POST /greetings` (keyed by Idempotency-Key) makes a new greeting for
every request instead of replaying the first.
Errors are `{"error", "detail"}` JSON, as the harness's `error_body_shape` check wants.
"""

from __future__ import annotations

import itertools
import os
import ssl
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

# One TLS context for the whole process: a client per request would otherwise read the CA
# bundle each time (about 50 ms of CPU).
TLS = ssl.create_default_context()

_ERROR: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "detail"],
                "properties": {"error": {"type": "string"}, "detail": {}},
            }
        }
    }
}

app = FastAPI(
    title="toy front",
    responses={
        400: {"description": "Malformed JSON", **_ERROR},
        422: {"description": "Invalid request", **_ERROR},
    },
)
_ids = itertools.count(1)
_by_key: dict[str, dict[str, object]] = {}


def reset() -> None:
    """Forget every greeting (in-process tests start each pass from nothing)."""
    global _ids
    _ids = itertools.count(1)
    _by_key.clear()


class Greeting(BaseModel):
    id: int
    text: str


class GreetingRequest(BaseModel):
    name: str = Field(min_length=1, max_length=20, pattern="^[a-z]+$")


def _error(status: int, error: str, detail: object, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


@app.exception_handler(RequestValidationError)
async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        return _error(400, "malformed_json", details)
    return _error(422, "validation_error", details)


@app.exception_handler(HTTPException)
async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
    return _error(exc.status_code, f"http_{exc.status_code}", exc.detail, **(exc.headers or {}))


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get(
    "/welcome/{name}",
    response_model=Greeting,
    responses={503: {"description": "back is unavailable", **_ERROR}},
)
async def greet(name: Annotated[str, Path(pattern="^[a-z]{1,20}$")]) -> object:
    try:
        async with httpx.AsyncClient(
            base_url=os.environ["BACK_URL"], timeout=2.0, verify=TLS
        ) as client:
            answer = await client.get(f"/names/{name}")
    except httpx.TransportError:
        if os.environ.get("TOY_OUTAGE_BUG"):
            return _error(500, "internal_error", "back failed")
        return _error(503, "dependency_unavailable", "back is unavailable")
    return Greeting(id=0, text=f"hello {answer.json()['name']}")


@app.post(
    "/greetings",
    status_code=201,
    response_model=Greeting,
    responses={200: {"model": Greeting, "description": "A replay of this Idempotency-Key"}},
)
def create_greeting(
    body: GreetingRequest,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", pattern="^[a-z0-9]{1,20}$")],
) -> object:
    if idempotency_key in _by_key and not os.environ.get("TOY_REPLAY_BUG"):
        return JSONResponse(_by_key[idempotency_key], status_code=200)
    greeting = {"id": next(_ids), "text": f"hello {body.name}"}
    _by_key[idempotency_key] = greeting
    return greeting
