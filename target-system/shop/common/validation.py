"""Bounded types for request models: a number a database column cannot hold is a 422, not a 500.

SQLite raises OverflowError beyond signed 64 bits, so every integer that reaches the database
is bounded here. The bound is 2**53 - 1, not 2**63 - 1: it is also exact as a JSON double, so
clients (and fuzzers such as schemathesis, which read `maximum` as a float) agree with the
server on which numbers are valid.

Two families: `DbId`... for path and query parameters (which arrive as text, so "5" must
parse), and `JsonId`... for JSON bodies, which follow JSON Schema's `integer`: `5` and `5.0`
are integers, `"5"` and `true` are not (pydantic's lax mode would take both, and its strict
mode would refuse `5.0`, which the OpenAPI document allows).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MAX_DB_INT = 2**53 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A row id (>= 1) in a path or query parameter."""

NonNegativeDbInt = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
"""A count or offset (>= 0) in a path or query parameter."""

PositiveDbInt = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A quantity (> 0) in a path or query parameter."""


def _json_number_only(value: object) -> object:
    # bool is an int subclass in Python, but `true` is no JSON number.
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


# The bounds come before the BeforeValidator: that way pydantic keeps them on the integer
# schema and the OpenAPI document shows `minimum`/`maximum` (after it, they would leak out
# as non-standard `ge`/`le` keys).
JsonId = Annotated[int, Field(ge=1, le=MAX_DB_INT), BeforeValidator(_json_number_only)]
"""A row id (>= 1) in a JSON body: a JSON integer, nothing else."""

JsonNonNegativeInt = Annotated[int, Field(ge=0, le=MAX_DB_INT), BeforeValidator(_json_number_only)]
"""A count or amount (>= 0) in a JSON body."""

JsonPositiveInt = Annotated[int, Field(ge=1, le=MAX_DB_INT), BeforeValidator(_json_number_only)]
"""A quantity or amount (> 0) in a JSON body."""


def _not_blank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must contain a character other than whitespace")
    return stripped


# For name-like strings, after their length constraints (checked on the text as sent, so the
# document's `maxLength` means what it says): at least one character is not whitespace, the
# document says so with the pattern `\S` (a bare `minLength: 1` let "   " look valid), and
# the value is stored without surrounding whitespace. Usage:
# `Annotated[str, StringConstraints(min_length=1, max_length=100), NOT_BLANK, NOT_BLANK_DOC]`
NOT_BLANK = AfterValidator(_not_blank)
NOT_BLANK_DOC = Field(json_schema_extra={"pattern": r"\S"})
