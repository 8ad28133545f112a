"""The fixture's entry service, with a real bug: `POST /buy` charges the store with an
unkeyed `POST /charges` and retries it on ANY failure, a lost response included, so one buy
can charge up to three times. A store that is down is answered 503 (graceful).
"""

from __future__ import annotations

import os
import ssl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# One TLS context for the whole process: a client per request would otherwise read the CA
# bundle each time (about 50 ms of CPU).
TLS = ssl.create_default_context()

ATTEMPTS = 3


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def buy(request: Request) -> JSONResponse:
    store = os.environ["STORE_URL"]
    headers = {"X-Request-ID": request.headers.get("x-request-id", "")}
    async with httpx.AsyncClient(timeout=1.0, trust_env=False, verify=TLS) as client:
        for _ in range(ATTEMPTS):  # the bug: a retried POST with no idempotency key
            try:
                response = await client.post(f"{store}/charges", headers=headers, json={})
            except httpx.HTTPError:
                continue
            if response.status_code < 500:
                return JSONResponse(response.json(), status_code=201)
    return JSONResponse({"error": "store_unavailable"}, status_code=503)


app = Starlette(routes=[Route("/health", health), Route("/buy", buy, methods=["POST"])])
