"""Health waits: poll each service's health URL until it answers 2xx, all in parallel.

A wait ends early when the service's process exits (no point polling a dead process) and
its failure carries the last lines of the service's log, which is nearly always where the
reason is (import error, port in use, bad setting).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from harness import http_clients
from harness.runtime.ports import LOOPBACK, port_is_listening

__all__ = ["HealthTarget", "probe", "probe_all", "wait_all_healthy"]

POLL_INTERVAL = 0.05


@dataclass(frozen=True, slots=True)
class HealthTarget:
    """What to wait for: `url` answering 2xx (any HTTP answer when `any_answer`: a service
    that declares no health path); `exit_status()` is non-None once it has died."""

    name: str
    url: str
    exit_status: Callable[[], str | None] = lambda: None
    any_answer: bool = False

    @classmethod
    def of(
        cls,
        name: str,
        base_url: str,
        health: str,
        exit_status: Callable[[], str | None] = lambda: None,
    ) -> HealthTarget:
        """The target for a service at `base_url` whose health path is `health` ("": none,
        then any HTTP answer at `/` means it is up)."""
        return cls(name, base_url + (health or "/"), exit_status, any_answer=not health)


def probe(client: httpx.Client, url: str, *, any_answer: bool = False) -> str | None:
    """None when `url` answers 2xx (any status with `any_answer`), else a short reason."""
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if response.is_success or (any_answer and response.status_code < 500):
        return None
    return f"HTTP {response.status_code}"


def _accepts(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return port_is_listening(port, host=parts.hostname or LOOPBACK)


def _wait_one(target: HealthTarget, deadline: float, stop: threading.Event) -> str | None:
    reason = "not polled"
    with http_clients.client(timeout=1.0, trust_env=False) as client:
        while not stop.is_set():
            died = target.exit_status()
            if died is not None:
                return died
            # a refused TCP connect costs microseconds, an HTTP attempt about a millisecond of
            # CPU: while a service boots, knock first, and only then ask over HTTP
            reason = "connection refused"
            if _accepts(target.url):
                reason = probe(client, target.url, any_answer=target.any_answer) or ""
                if not reason:
                    return None
            if time.monotonic() >= deadline:
                return f"not healthy in time (last answer: {reason})"
            time.sleep(POLL_INTERVAL)
    return "wait cancelled"


def wait_all_healthy(targets: Sequence[HealthTarget], *, timeout: float) -> dict[str, str]:
    """Wait for every target; returns `{name: reason}` for those that failed (empty: all ok).

    The first failure cancels the other waits: a start-up that failed is torn down at once.
    """
    if not targets:
        return {}
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    failures: dict[str, str] = {}

    def run(target: HealthTarget) -> None:
        reason = _wait_one(target, deadline, stop)
        if reason is not None and reason != "wait cancelled":
            failures[target.name] = reason
            stop.set()

    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="health") as pool:
        list(pool.map(run, targets))
    return failures


def probe_all(targets: Sequence[HealthTarget]) -> dict[str, str | None]:
    """One probe of each target, in parallel: `{name: None}` when healthy, else the reason."""

    def one(target: HealthTarget) -> str | None:
        died = target.exit_status()
        if died is not None:
            return died
        with http_clients.client(timeout=1.0, trust_env=False) as client:
            return probe(client, target.url, any_answer=target.any_answer)

    if not targets:
        return {}
    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="probe") as pool:
        return dict(zip((t.name for t in targets), pool.map(one, targets), strict=True))
