"""The fixture's provider: `POST /charges` records a charge; `GET /charges` counts them."""

from __future__ import annotations

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

IDS = itertools.count(1)
CHARGES: list[int] = []


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def charge(request: Request) -> JSONResponse:
    CHARGES.append(next(IDS))
    return JSONResponse({"charge": CHARGES[-1]}, status_code=201)


async def charges(request: Request) -> JSONResponse:
    return JSONResponse({"count": len(CHARGES)})


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/charges", charge, methods=["POST"]),
        Route("/charges", charges, methods=["GET"]),
    ]
)
