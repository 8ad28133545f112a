"""How a user names a Python function in a file they write (an invariant checker in a load
profile or an experiment, a fuzz prepare step in a topology or on the command line):
`path/to/file.py:function` or `package.module:function`.

`rebase_reference` makes a file reference independent of the working directory (relative
to the file that names it); `resolve_function` finds the function. Both are shared by
`harness.assertions.invariants` (chaos and load) and `harness.fuzz.prepare`; this module imports
nothing of the harness.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "SHAPES",
    "FunctionReferenceError",
    "rebase_reference",
    "resolve_function",
    "split_reference",
]

SHAPES = "'path/to/file.py:function' or 'package.module:function'"


class FunctionReferenceError(ValueError):
    """A function reference is malformed or names nothing that can be called."""


def split_reference(reference: str) -> tuple[str, str]:
    """(file or module, function name) of a well-formed reference; ValueError otherwise."""
    location, sep, function = reference.rpartition(":")
    if not sep or not location or not function.isidentifier():
        raise ValueError(f"expected {SHAPES}, got {reference!r}")
    return location, function


def rebase_reference(reference: str, base_dir: Path) -> str:
    """`file.py:function` with the file made absolute from `base_dir` (the directory of the
    file that names it); a `module:function` reference is returned unchanged."""
    location, sep, function = reference.rpartition(":")
    if not sep or not location.endswith(".py"):
        return reference
    return f"{(base_dir / location).resolve()}:{function}"


def resolve_function(
    reference: str,
    *,
    base_dir: Path | None = None,
    what: str = "function",
    error: Callable[[str], Exception] = FunctionReferenceError,
) -> Callable[..., Any]:
    """The function `reference` names: `file.py:function` (relative to `base_dir`, default
    the working directory) or `package.module:function`.

    A file is imported once per path (a checker keeps its module state between calls).
    Problems raise `error(message)` (default `FunctionReferenceError`), the message starting
    with `what` and the reference: `invariant 'x.py:f': no such file /abs/x.py`.
    """
    prefix = f"{what} {reference!r}"
    try:
        module_ref, attribute = split_reference(reference)
    except ValueError:
        raise error(f"{prefix}: expected {SHAPES}") from None
    if module_ref.endswith(".py"):
        module = _module_from_file((base_dir or Path.cwd()) / module_ref, prefix, error)
    else:
        try:
            module = importlib.import_module(module_ref)
        except ImportError as exc:
            raise error(f"{prefix}: cannot import {module_ref}: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise error(f"{prefix}: no function {attribute!r} in {module_ref}")
    return function  # type: ignore[no-any-return]


def _module_from_file(path: Path, prefix: str, error: Callable[[str], Exception]) -> Any:
    path = path.resolve()
    if not path.is_file():
        raise error(f"{prefix}: no such file {path}")
    # Registered in sys.modules (dataclasses and pickling need it), once per file.
    name = f"_harness_reference_{path.stem}_{abs(hash(str(path)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"{prefix}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise error(f"{prefix}: {path} failed to import: {exc}") from exc
    return module
