"""Bounded types for request models: a number a database column cannot hold is a 422, not a 500.

SQLite and PostgreSQL BIGINT both hold signed 64-bit integers; SQLite raises OverflowError
on anything larger, so every integer that reaches the database is bounded here.

Two families: `DbId`... for path and query parameters (which arrive as text, so "5" must
parse), and `JsonId`... for JSON bodies, which are strict: `"5"`, `true` and `5.0` are not
integers there (FastAPI validates the decoded Python objects, so a model-wide strict mode
would also reject UUIDs and datetimes sent as strings; hence per-field `Strict()`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

MAX_DB_INT = 2**63 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A row id (>= 1) in a path or query parameter."""

NonNegativeDbInt = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
"""A count or offset (>= 0) in a path or query parameter."""

PositiveDbInt = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A quantity (> 0) in a path or query parameter."""

JsonId = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_INT)]
"""A row id (>= 1) in a JSON body: a JSON integer, nothing else."""

JsonNonNegativeInt = Annotated[int, Strict(), Field(ge=0, le=MAX_DB_INT)]
"""A count or amount (>= 0) in a JSON body."""

JsonPositiveInt = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_INT)]
"""A quantity or amount (> 0) in a JSON body."""
