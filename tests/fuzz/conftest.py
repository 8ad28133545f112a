"""Fuzz tests send thousands of requests per test: the services' per-request INFO logs are
left out (restored after each test, so other directories' tests keep them)."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def quiet_service_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="shop")
