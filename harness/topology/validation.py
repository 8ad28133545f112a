"""The one way a malformed user file is explained: topology, experiment and profile files
all turn a pydantic `ValidationError` into lines `source: key.path: message (got value)`.

Callers may add a header, write list indexes as `[0]` (TOML tables) or `.0` (YAML paths),
drop the tags pydantic puts into the paths of discriminated unions, and give a better
message for the errors they know more about (`explain`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import ValidationError

__all__ = ["describe_validation_error", "key_path"]

#: An error (as `ValidationError.errors()` gives it) -> a better message, or None.
Explain = Callable[[Mapping[str, Any]], str | None]


def key_path(
    loc: Sequence[int | str],
    *,
    prefix: str = "",
    union_tags: Iterable[str] = (),
    indexes: Literal["dot", "bracket"] = "dot",
) -> str:
    """`('services', 'a', 'port')` -> `services.a.port`; `('edges', 0, 'to')` -> `edges.0.to`
    (or `edges[0].to`). Tags of discriminated unions right after a list index, and the
    names pydantic gives its internal validators, are dropped: the user never wrote them."""
    tags = frozenset(union_tags)
    text = prefix
    for position, part in enumerate(loc):
        after_index = position > 0 and isinstance(loc[position - 1], int)
        if after_index and part in tags:
            continue
        if isinstance(part, str) and ("[" in part or part in ("str",)):
            continue  # `function-after[_from_arrow(), EdgeSpec]`, `str`: pydantic's own
        if isinstance(part, int) and indexes == "bracket":
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe_validation_error(
    exc: ValidationError,
    *,
    source: str,
    prefix: str = "",
    union_tags: Iterable[str] = (),
    indexes: Literal["dot", "bracket"] = "dot",
    header: str | None = None,
    explain: Explain | None = None,
) -> str:
    """One line per problem: `source: key.path: message (got value)`, after `header`
    (`source: header`) when given."""
    tags = tuple(union_tags)
    lines = [f"{source}: {header}"] if header else []
    for error in exc.errors(include_url=False):
        path = key_path(error["loc"], prefix=prefix, union_tags=tags, indexes=indexes)
        message = (explain(error) if explain is not None else None) or _message(error)
        lines.append(f"{source}: {path + ': ' if path else ''}{message}")
    return "\n".join(lines)


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = repr(value)
    # Echo scalars only: a whole mapping or list would bury the message.
    scalar = value is None or isinstance(value, str | int | float | bool)
    if scalar and error["type"] != "missing" and shown not in message:
        message += f" (got {shown})"
    return message
