"""A tiny non-shop service for the traffic tests: notes behind a bearer token (Starlette).

`POST /notes` (needs `Authorization: Bearer $NOTES_TOKEN`) -> 201 {"id", "text", "owner"};
`GET /notes/{id}` -> 200 | 404; `GET /health` -> 200.
"""

from __future__ import annotations

import itertools
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

NOTES: dict[int, dict[str, object]] = {}
IDS = itertools.count(1)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def create_note(request: Request) -> JSONResponse:
    token = os.environ.get("NOTES_TOKEN", "")
    if request.headers.get("authorization") != f"Bearer {token}":
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await request.json()
    note = {"id": next(IDS), "text": body.get("text"), "owner": body.get("owner")}
    NOTES[int(note["id"])] = note  # type: ignore[call-overload]
    return JSONResponse(note, status_code=201)


async def read_note(request: Request) -> JSONResponse:
    note = NOTES.get(int(request.path_params["note_id"]))
    if note is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(note)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/notes", create_note, methods=["POST"]),
        Route("/notes/{note_id:int}", read_note),
    ]
)
