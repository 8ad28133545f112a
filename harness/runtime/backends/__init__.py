"""The backends, by name: `process` (local processes, the default), `attach` (a system
already running) and `containers` (a container per service; needs a Docker-API engine).

Start-up and teardown ask `backend_named(...)`; a new backend is one module here that
implements `Backend` and one line in `BACKENDS`. None imports testcontainers or the Docker
SDK at import time.
"""

from __future__ import annotations

from harness.runtime.backends.attach import AttachBackend
from harness.runtime.backends.base import Backend
from harness.runtime.backends.containers.backend import ContainersBackend
from harness.runtime.backends.process import ProcessBackend
from harness.runtime.errors import HarnessRuntimeError

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "backend_named"]

BACKENDS: dict[str, Backend] = {
    backend.name: backend for backend in (ProcessBackend(), AttachBackend(), ContainersBackend())
}
DEFAULT_BACKEND = "process"


def backend_named(name: str) -> Backend:
    """The backend registered as `name`; `HarnessRuntimeError` naming the choices if none."""
    try:
        return BACKENDS[name]
    except KeyError:
        choices = ", ".join(BACKENDS)
        raise HarnessRuntimeError(f"unknown backend {name!r}; expected one of: {choices}") from None
