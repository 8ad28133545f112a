"""Drive a traffic source: pacing, threads, timeouts, records, stop.

A few threads share one httpx client and one pacer, so the total rate is bounded
whatever the concurrency; request indices are handed out in order, and a source draws
each request from its index (`request_rng`), so a seed replays the same requests in the
same order (their timing is up to the system).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness import http_clients
from harness.references import resolve_function
from harness.traffic.declared import DeclaredTrafficSource
from harness.traffic.record import TrafficRecord, request_counts
from harness.traffic.source import TrafficError, TrafficSource, TrafficSystem
from harness.traffic.spec import ClassTraffic, DeclaredTraffic, TrafficPacing

__all__ = ["TrafficRun", "traffic_source"]

log = logging.getLogger(__name__)


def traffic_source(spec: DeclaredTraffic | ClassTraffic, *, base_dir: Path) -> TrafficSource:
    """The source a spec describes: its declared requests, or the user's class built with
    its options (a file reference is relative to `base_dir`). TrafficError otherwise."""
    if isinstance(spec, DeclaredTraffic):
        return DeclaredTrafficSource(spec)
    reference = spec.class_
    found = resolve_function(reference, base_dir=base_dir, what="traffic", error=TrafficError)
    if not isinstance(found, type):
        raise TrafficError(f"traffic {reference!r}: expected a class, got {type(found).__name__}")
    try:
        source = found(**spec.options)
    except (TypeError, ValueError) as exc:
        raise TrafficError(f"traffic {reference!r}: its options were refused: {exc}") from None
    missing = [m for m in ("setup", "request") if not callable(getattr(source, m, None))]
    if missing:
        raise TrafficError(
            f"traffic {reference!r}: a traffic class needs the methods setup(system, seed, "
            f"client) and request(index, client); missing {', '.join(missing)}"
        )
    return source  # type: ignore[no-any-return]


@dataclass(slots=True)
class _Pacer:
    """Hands out request indices and start times `1/rate` apart to any number of threads."""

    rate: float
    next_at: float = 0.0
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, now: float) -> tuple[int, float]:
        with self.lock:
            at = max(self.next_at, now)
            self.next_at = at + 1.0 / self.rate
            index = self.issued
            self.issued += 1
            return index, at


# An idle connection is dropped by the client before a server's keep-alive timeout can close
# it under a request being sent (uvicorn and Node.js close after 5 s, gunicorn after 2 s;
# httpx keeps one 5 s): that race answers a request with no response at all, which an
# experiment then counts as the system's error.
KEEPALIVE_EXPIRY = 1.0


class TrafficRun:
    """One run of a source: `setup`, `start`, then `request_stop`/`stop`.

    Args:
        source: what sends each request (see `harness.traffic.source`).
        pacing: rate, concurrency, duration (None: until `stop()`) and request timeout.
        transport: an httpx transport (tests pass `httpx.MockTransport`).
    """

    def __init__(
        self,
        source: TrafficSource,
        pacing: TrafficPacing,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.pacing = pacing
        self.duration = pacing.duration
        self._client = http_clients.client(
            transport=transport,
            timeout=pacing.timeout,
            limits=httpx.Limits(
                max_connections=pacing.concurrency + 2, keepalive_expiry=KEEPALIVE_EXPIRY
            ),
        )
        self._records: list[TrafficRecord] = []
        self._in_flight: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.context: dict[str, Any] = {}
        self.started_at: float | None = None
        self.ended_at: float | None = None

    @property
    def timeout(self) -> float:
        """The request timeout: how long a request in flight can still take."""
        return self.pacing.timeout

    def setup(self, system: TrafficSystem, seed: int) -> dict[str, Any]:
        """Let the source create what it needs; its context (for invariants) is returned."""
        try:
            context = self.source.setup(system, seed, self._client)
        except TrafficError:
            raise
        except Exception as exc:
            raise TrafficError(f"traffic setup failed: {type(exc).__name__}: {exc}") from exc
        if context is not None and not isinstance(context, Mapping):
            raise TrafficError(
                f"traffic setup returned {type(context).__name__}; expected a mapping or None"
            )
        self.context = dict(context or {})
        return self.context

    def start(self, *, delay: float = 0.0) -> None:
        """Start the workers; the first request goes out after `delay` seconds."""
        self.started_at = time.time() + delay
        begin = time.monotonic() + delay
        pacer = _Pacer(rate=self.pacing.rate, next_at=begin)
        deadline = float("inf") if self.duration is None else begin + self.duration
        for index in range(self.pacing.concurrency):
            thread = threading.Thread(
                target=self._worker, args=(pacer, deadline), name=f"traffic-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every worker finished (True) or `timeout` passed (False)."""
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if end is None else max(0.0, end - time.monotonic()))
            if thread.is_alive():
                return False
        self._mark_ended()
        return True

    def request_stop(self) -> None:
        """Issue no new request (returns at once; `done` turns true when workers exit)."""
        self._stop.set()

    def stop(self) -> None:
        """Stop issuing requests; requests in flight finish (bounded by the timeout)."""
        self._stop.set()
        self.wait(self.pacing.timeout + 1.0)
        self._mark_ended()
        self._client.close()
        close = getattr(self.source, "close", None)
        if callable(close):
            close()

    @property
    def done(self) -> bool:
        return bool(self._threads) and not any(t.is_alive() for t in self._threads)

    def _mark_ended(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()

    def _worker(self, pacer: _Pacer, deadline: float) -> None:
        while not self._stop.is_set():
            index, at = pacer.claim(time.monotonic())
            if at >= deadline:
                return
            if self._stop.wait(max(0.0, at - time.monotonic())):
                return
            self._one(index)

    def _one(self, index: int) -> None:
        token = threading.get_ident()
        started = time.time()
        with self._lock:
            self._in_flight[token] = started
        try:
            record = self.source.request(index, self._client)
        except Exception as exc:  # a bug in a source must not end the run silently
            log.exception("traffic request %d failed", index)
            record = TrafficRecord(
                name="<traffic error>",
                started_at=started,
                latency=time.time() - started,
                status=None,
                error=f"{type(exc).__name__}: {exc}",
            )
        with self._lock:
            self._in_flight.pop(token, None)
            self._records.append(record)

    # -- reading ------------------------------------------------------------------------

    @property
    def records(self) -> list[TrafficRecord]:
        with self._lock:
            return list(self._records)

    @property
    def in_flight(self) -> list[float]:
        """Start times of the requests still waiting for an answer."""
        with self._lock:
            return list(self._in_flight.values())

    def stats(self) -> dict[str, dict[str, int]]:
        """`{request name: {"ok": n, "error": n}}` so far (the live view shows it)."""
        return {
            name: {"ok": counts["ok"], "error": counts["error"]}
            for name, counts in request_counts(self.records).items()
        }
