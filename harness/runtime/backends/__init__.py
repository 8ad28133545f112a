"""The backends, by name: `process` (local processes, the default), `attach` (a system
already running) and `containers` (a container per service; needs a Docker-API engine).

Start-up and teardown ask `backend_named(...)`; a new backend is one module here that
implements `Backend` and one line in `_registered` (`BACKENDS`, made on first use). None
imports testcontainers or the Docker SDK at import time.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from harness.runtime.backends.base import Backend
from harness.runtime.errors import HarnessRuntimeError

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "backend_named"]

if TYPE_CHECKING:
    BACKENDS: dict[str, Backend]

DEFAULT_BACKEND = "process"


@functools.cache
def _registered() -> dict[str, Backend]:
    # Imported on first use: the command line lists and mounts commands without them.
    from harness.runtime.backends.attach import AttachBackend
    from harness.runtime.backends.containers.backend import ContainersBackend
    from harness.runtime.backends.process import ProcessBackend

    return {
        backend.name: backend
        for backend in (ProcessBackend(), AttachBackend(), ContainersBackend())
    }


def __getattr__(name: str) -> Any:
    if name == "BACKENDS":
        return _registered()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def backend_named(name: str) -> Backend:
    """The backend registered as `name`; `HarnessRuntimeError` naming the choices if none."""
    backends = _registered()
    try:
        return backends[name]
    except KeyError:
        choices = ", ".join(backends)
        raise HarnessRuntimeError(f"unknown backend {name!r}; expected one of: {choices}") from None
