"""Shared by the consumer tests and the provider verification under contracts/."""

from __future__ import annotations

import os

import pytest

# pact-python's FFI sends anonymous telemetry unless told not to; nothing here may leave
# loopback (../shared/library-facts.md).
os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`@pytest.mark.anyio`) run on asyncio, the loop the services use."""
    return "asyncio"
