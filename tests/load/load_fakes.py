"""RunningSystem-shaped fakes for load tests (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness import http_clients
from harness.topology import parse_topology


@dataclass
class FakeHandle:
    name: str
    url: str
    pid: int


@dataclass
class FakeInjector:
    """Stands in for `harness.faults.FaultInjector` on the fake's one edge."""

    control_url: str
    calls: list[tuple[str, str]] = field(default_factory=list)

    def _control(self, **state: int) -> None:
        http_clients.post(self.control_url, json=state, timeout=5).raise_for_status()

    def add_toxic(
        self,
        edge: str,
        type: str,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> str:
        self.calls.append(("add_toxic", edge))
        self._control(latency_ms=int((attributes or {}).get("latency", 0)), breaker=1)
        return name or f"{type}_{stream}"

    def remove_toxic(self, edge: str, name: str) -> None:
        self.calls.append(("remove_toxic", edge))
        self._control(latency_ms=0, breaker=0)

    def partition(self, edge: str) -> None:
        self.calls.append(("partition", edge))
        self._control(breaker=1)

    def heal(self, edge: str) -> None:
        self.calls.append(("heal", edge))
        self._control(breaker=0)


class FakeSystem:
    """The parts of `harness.runtime.RunningSystem` the load runner uses."""

    def __init__(self, url: str, pid: int) -> None:
        self.services = {"gateway": FakeHandle("gateway", url, pid)}
        self.edges = {"gateway->payments": object(), "gateway->users": object()}
        self.faults = FakeInjector(f"{url}/_control")
        # Declared the way a user declares their own system: where the metrics are and how
        # the gateway exposes its breakers.
        self.topology = parse_topology(
            {
                "conventions": {
                    "metrics": "/metrics",
                    "breaker": {
                        "metric": "shop_breaker_state",
                        "labels": {"dependency": "{target}"},
                    },
                },
                "services": {name: {"app": "m:app"} for name in ("gateway", "payments", "users")},
                "edges": [
                    {"from": "gateway", "to": "payments"},
                    {"from": "gateway", "to": "users"},
                ],
            }
        )

    def url(self, service: str) -> str:
        return self.services[service].url

    def kill(self, service: str) -> None:
        raise NotImplementedError("the fake gateway has no process faults")

    restart = pause = resume = kill

    def wait_healthy(self, service: str, timeout: float = 30.0) -> None:
        return None
