"""Fixtures shared by the shop's unit and service tests (kept generic)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`@pytest.mark.anyio`) run on asyncio, the loop uvicorn uses."""
    return "asyncio"


@pytest.fixture
def unique_service() -> str:
    """A service name no other test uses, so metric samples read by a test are its own."""
    return f"test-{uuid.uuid4().hex[:8]}"


AppClientFactory = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_client() -> AsyncIterator[AppClientFactory]:
    """Factory: run an app's lifespan and give an httpx client talking to it in-process.

    Everything opened is closed (lifespan shutdown included) when the test ends.
    """
    async with AsyncExitStack() as stack:

        async def open_client(app: FastAPI) -> httpx.AsyncClient:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(client)

        yield open_client
