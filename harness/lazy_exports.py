"""Package namespaces that import their modules on first use.

A package's `__init__` re-exports its public names for users (`from harness.chaos import
run_suite`); importing every module behind them at once made each `harness` process, even
`harness --help`, pay for the whole harness (schemathesis, pact, httpx, jinja2 ...). With
`__getattr__ = lazy_exports(__name__, {module: names})` a name is imported when it is first
asked for; the package keeps the same imports under `TYPE_CHECKING` for mypy.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: each name of `exports[module]` comes from
    `module`, imported on first use and then kept in the package's namespace."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
