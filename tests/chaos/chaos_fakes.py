"""Fakes at the harness's seams: a system that records what was done to it, and a clock.

`FakeSystem` implements the few `RunningSystem` methods the fault schedule and the chaos
runner call, and keeps a log of calls plus the current state (toxics, partitions, dead and
paused services), so tests assert on effects instead of patching.
"""

from __future__ import annotations

import threading
from typing import Any


class FakeInjector:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.toxics: dict[str, dict[str, dict[str, Any]]] = {}
        self.partitioned: set[str] = set()
        self.fail_on: set[str] = set()

    def _maybe_fail(self, call: str) -> None:
        if call in self.fail_on:
            raise RuntimeError(f"injected failure in {call}")

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
        self._maybe_fail("add_toxic")
        toxic_name = name or f"{type}_{stream}"
        self.toxics.setdefault(edge, {})[toxic_name] = {
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": dict(attributes or {}),
        }
        self.log.append(f"add_toxic {edge} {type}")
        return toxic_name

    def remove_toxic(self, edge: str, name: str) -> None:
        self._maybe_fail("remove_toxic")
        del self.toxics[edge][name]
        self.log.append(f"remove_toxic {edge} {name}")

    def partition(self, edge: str) -> None:
        self._maybe_fail("partition")
        self.partitioned.add(edge)
        self.log.append(f"partition {edge}")

    def heal(self, edge: str) -> None:
        self._maybe_fail("heal")
        self.partitioned.discard(edge)
        self.log.append(f"heal {edge}")

    def reset(self) -> None:
        self.toxics.clear()
        self.partitioned.clear()
        self.log.append("reset")

    def active_toxics(self) -> list[str]:
        return [f"{edge}:{name}" for edge, named in self.toxics.items() for name in named]


class FakeSystem:
    """Records kills, pauses, restarts and proxy calls; nothing runs."""

    def __init__(
        self,
        services: tuple[str, ...] = ("gateway", "orders", "payments"),
        *,
        edges: tuple[str, ...] = (),
        url_template: str = "http://{name}.test",
    ) -> None:
        self.log: list[str] = []
        self.injector = FakeInjector(self.log)
        self.services = {name: url_template.format(name=name) for name in services}
        self.edges = {edge: edge for edge in edges}
        self.dead: set[str] = set()
        self.paused: set[str] = set()
        self.on_call: dict[str, threading.Event] = {}
        self.raise_on: dict[str, BaseException] = {}

    @property
    def faults(self) -> FakeInjector:
        return self.injector

    def _note(self, call: str) -> None:
        if call in self.raise_on:
            raise self.raise_on[call]
        self.log.append(call)
        event = self.on_call.get(call)
        if event is not None:
            event.set()

    def kill(self, service: str) -> None:
        self.dead.add(service)
        self._note(f"kill {service}")

    def restart(self, service: str) -> None:
        self.dead.discard(service)
        self._note(f"restart {service}")

    def pause(self, service: str) -> None:
        self.paused.add(service)
        self._note(f"pause {service}")

    def resume(self, service: str) -> None:
        self.paused.discard(service)
        self._note(f"resume {service}")

    def wait_healthy(self, service: str, timeout: float = 30.0) -> None:
        self._note(f"wait_healthy {service}")

    def url(self, service: str) -> str:
        return self.services[service]


class FakeClock:
    """Time that moves only when someone waits: `wait(s)` advances by `s` at once.

    With `block_after` set, a wait that would pass that offset blocks until `stop` is set
    (a schedule "still running" when the test stops it).
    """

    def __init__(self, *, start: float = 1_000.0, block_after: float | None = None) -> None:
        self.now = 0.0
        self.wall_start = start
        self.block_after = block_after
        self.waiting = threading.Event()

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_start + self.now

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        if stop.is_set():
            return True
        target = self.now + max(0.0, seconds)
        if self.block_after is not None and target > self.block_after:
            self.waiting.set()
            stop.wait(10.0)
            return stop.is_set()
        self.now = target
        return False
