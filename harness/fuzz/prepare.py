"""`--prepare`: put test data in place before fuzzing (users, products...), as Pact's
provider states do before a verification.

A prepare step is a Python callable taking the `RunningSystem`; it is named by
`path/to/file.py:function` or `package.module:function`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.references import resolve_function

if TYPE_CHECKING:
    from harness.runtime import RunningSystem

__all__ = ["Prepare", "PrepareError", "load_prepare"]

Prepare = Callable[["RunningSystem"], Any]


class PrepareError(ValueError):
    """The prepare step cannot be found or loaded; the message names it."""


def load_prepare(spec: str) -> Prepare:
    """The callable named by `spec` ("file.py:function" or "package.module:function")."""
    prepare: Prepare = resolve_function(spec, what="--prepare", error=PrepareError)
    return prepare
