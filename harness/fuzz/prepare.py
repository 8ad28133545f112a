"""`--prepare`: put test data in place before fuzzing (users, products...), as Pact's
provider states do before a verification.

A prepare step is a Python callable taking the `RunningSystem`; it is named by
`path/to/file.py:function` or `package.module:function`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.runtime import RunningSystem

__all__ = ["Prepare", "PrepareError", "load_prepare"]

Prepare = Callable[["RunningSystem"], Any]


class PrepareError(ValueError):
    """The prepare step cannot be found or loaded; the message names it."""


def load_prepare(spec: str) -> Prepare:
    """The callable named by `spec` ("file.py:function" or "package.module:function")."""
    location, sep, name = spec.rpartition(":")
    if not sep or not location or not name.isidentifier():
        raise PrepareError(
            f"--prepare {spec!r}: expected 'path/to/file.py:function' or 'package.module:function'"
        )
    module = _module_from_file(Path(location), spec) if location.endswith(".py") else None
    if module is None:
        try:
            module = importlib.import_module(location)
        except ImportError as exc:
            raise PrepareError(f"--prepare {spec!r}: cannot import {location}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise PrepareError(f"--prepare {spec!r}: {location} has no function {name!r}")
    prepare: Prepare = function
    return prepare


def _module_from_file(path: Path, spec: str) -> Any:
    if not path.is_file():
        raise PrepareError(f"--prepare {spec!r}: no such file {path}")
    module_spec = importlib.util.spec_from_file_location(f"harness_prepare_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise PrepareError(f"--prepare {spec!r}: cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise PrepareError(f"--prepare {spec!r}: {path} failed to load: {exc!r}") from None
    return module
