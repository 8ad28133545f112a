"""The toy system of tests/fuzz/apps (a caller with planted bugs, a callee without a
document), for the engine's own tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

APPS = Path(__file__).with_name("apps")
TOY_SYSTEM = APPS / "system.toml"
TOY_SYSTEM_WITH_BUGS = APPS / "system_with_bugs.toml"


def toy_front() -> ModuleType:
    """The caller's module, imported in this process (for in-process passes)."""
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    return importlib.import_module("toy_front")
