"""Bounded types for request models: a number a database column cannot hold is a 422, not a 500.

SQLite and PostgreSQL BIGINT both hold signed 64-bit integers; SQLite raises OverflowError
on anything larger, so every integer that reaches the database is bounded here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_DB_INT = 2**63 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A row id (>= 1)."""

NonNegativeDbInt = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
"""A count or an amount (>= 0)."""

PositiveDbInt = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A quantity or an amount that must be > 0."""
