"""What the harness needs of a running system: one small hierarchy of protocols.

`harness.runtime.RunningSystem` (and the containers backend's system) satisfy all of them;
each layer asks for the least it needs, so tests hand it a small fake:

- `ServiceUrls`: each service's direct URL (probes, checks, traffic);
- `SystemView`: that, plus the services and edges by name (metrics timeline);
- `FaultTarget`: faults on edges and process faults on services (the fault executor);
- `RunningSystemLike`: all of the above (the chaos runner, the load runner).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["FaultInjectorLike", "FaultTarget", "RunningSystemLike", "ServiceUrls", "SystemView"]


class ServiceUrls(Protocol):
    """Each service's direct address (no proxy): `http://127.0.0.1:PORT`."""

    def url(self, service: str) -> str: ...


class SystemView(ServiceUrls, Protocol):
    """The services and edges of a running system, by name."""

    @property
    def services(self) -> Mapping[str, Any]: ...

    @property
    def edges(self) -> Mapping[str, Any]: ...


class FaultInjectorLike(Protocol):
    """The part of `harness.faults.FaultInjector` a fault schedule uses."""

    def add_toxic(
        self,
        edge: str,
        type: str,
        *,
        stream: str = ...,
        toxicity: float = ...,
        attributes: dict[str, Any] | None = ...,
        name: str | None = ...,
    ) -> str: ...

    def remove_toxic(self, edge: str, name: str) -> None: ...

    def partition(self, edge: str) -> None: ...

    def heal(self, edge: str) -> None: ...


class FaultTarget(Protocol):
    """Faults on edges and on processes: what a fault schedule drives."""

    @property
    def faults(self) -> FaultInjectorLike: ...

    def kill(self, service: str) -> None: ...

    def restart(self, service: str) -> None: ...

    def pause(self, service: str) -> None: ...

    def resume(self, service: str) -> None: ...

    def wait_healthy(self, service: str, timeout: float = ...) -> None: ...


class RunningSystemLike(SystemView, FaultTarget, Protocol):
    """Everything a chaos experiment or a load run drives."""
