"""Fuzz tests: the services' request logs are not needed (thousands of requests per test)."""

from __future__ import annotations

import logging

logging.getLogger("shop").setLevel(logging.WARNING)
