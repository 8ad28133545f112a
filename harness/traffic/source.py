"""The protocol a traffic class follows, and the pieces every traffic is built from.

A traffic class (named in an experiment as `method.traffic.class: file.py:Class` or
`package.module:Class`, its `options` passed to the constructor as keywords) has two
methods; the harness owns pacing, threads, timeouts, records and stop:

- `setup(system, seed, client) -> Mapping | None`: called once before the method, with the
  running system (`system.url(service)` is a service's base URL), the run's seed and the
  run's httpx client. Create what the requests need (a user, products). What it returns is
  the traffic's *context*: handed to invariant checkers as keywords (`initial_stock=...`)
  and written to the journal, so it must hold no secret. Raise `TrafficError` to abort
  the run with a message.
- `request(index, client) -> TrafficRecord`: one request, the `index`-th of the run
  (0, 1, 2, ...), called from several threads at once. Draw everything the request does
  from `request_rng(seed, index)` (and the request's name from a `WeightedDeck`), so one
  seed gives the same sequence of requests whatever the threads do. `send` times the call
  and turns its outcome into a record.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import httpx

from harness.system import ServiceUrls
from harness.traffic.record import TrafficRecord

__all__ = [
    "TrafficError",
    "TrafficSource",
    "TrafficSystem",
    "WeightedDeck",
    "request_rng",
    "send",
]


class TrafficError(RuntimeError):
    """The traffic cannot run: a bad class reference or options, or a failed setup."""


# What a traffic sees of the running system (harness.system keeps the one hierarchy).
TrafficSystem = ServiceUrls


@runtime_checkable
class TrafficSource(Protocol):
    """A traffic class: see the module's documentation."""

    def setup(
        self, system: TrafficSystem, seed: int, client: httpx.Client
    ) -> Mapping[str, Any] | None: ...

    def request(self, index: int, client: httpx.Client) -> TrafficRecord: ...


def request_rng(seed: int, index: int) -> random.Random:
    """The random generator of the `index`-th request of a run seeded `seed`: a pure
    function of both, so requests are the same whichever thread sends them."""
    return random.Random(f"{seed}:{index}")


class WeightedDeck:
    """Request names by integer weight, dealt like cards: every `sum(weights)` consecutive
    requests hold each name exactly `weight` times, in an order shuffled per round from
    the seed. A weight-2 path in a deck of 14 is walked twice in every 14 requests, never
    zero times by bad luck."""

    def __init__(self, weights: Mapping[str, int], seed: int) -> None:
        self._cards = [name for name, weight in weights.items() for _ in range(int(weight))]
        if not self._cards:
            raise ValueError("a deck needs at least one name with a weight above 0")
        self._seed = seed
        self._rounds: dict[int, list[str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._cards)

    def name(self, index: int) -> str:
        round_, position = divmod(index, len(self._cards))
        with self._lock:
            cards = self._rounds.get(round_)
            if cards is None:
                cards = list(self._cards)
                random.Random(f"{self._seed}:deck:{round_}").shuffle(cards)
                self._rounds[round_] = cards
        return cards[position]

    def names(self, indices: Iterable[int]) -> list[str]:
        return [self.name(index) for index in indices]


def send(
    client: httpx.Client,
    name: str,
    method: str,
    url: str,
    *,
    expect: Iterable[int] | None = None,
    data: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[TrafficRecord, httpx.Response | None]:
    """Send one request and describe it as a record (and the response, None on a transport
    error). `expect`: the statuses that count as `ok` (default: any 2xx); `data` is stored
    as given (never put a secret there); `kwargs` go to `client.request` (json, headers)."""
    started = time.time()
    began = time.perf_counter()
    response: httpx.Response | None = None
    error: str | None = None
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:  # the type only: messages can carry URLs with secrets
        error = type(exc).__name__
    status = response.status_code if response is not None else None
    allowed = None if expect is None else frozenset(expect)
    record = TrafficRecord(
        name=name,
        started_at=started,
        latency=time.perf_counter() - began,
        status=status,
        error=error,
        data=dict(data or {}),
        expected=None if allowed is None or status is None else status in allowed,
    )
    return record, response
