"""Requests declared in YAML (`DeclaredTraffic`) as a traffic source.

Each request's name comes from a `WeightedDeck` and its generated values from
`request_rng(seed, index)`, so one seed gives one sequence of requests. Values captured
from answers depend on what the system answered, and so does the choice among them.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import string
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from harness.traffic.record import TrafficRecord
from harness.traffic.source import TrafficError, TrafficSystem, WeightedDeck, request_rng, send
from harness.traffic.spec import (
    ALWAYS_SECRET_HEADERS,
    BUILTIN_VARIABLES,
    REDACTED,
    ChoiceGenerator,
    DeclaredRequest,
    DeclaredTraffic,
    EnvGenerator,
    IntGenerator,
    TextGenerator,
)

__all__ = ["DeclaredTrafficSource", "fill"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_POOL_CAP = 1_000  # values kept per captured name (the newest)
_TEXT = string.ascii_lowercase + string.digits


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with its `{placeholders}` replaced; a string that is exactly one
    placeholder becomes the value itself (a number stays a number)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is not None:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


def _dig(body: Any, path: str) -> Any:
    """`order.id` / `items.0.sku` in a JSON answer; KeyError when it is not there."""
    value = body
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value


class DeclaredTrafficSource:
    """Sends the requests of a `DeclaredTraffic` (see `harness.traffic.spec`)."""

    def __init__(self, spec: DeclaredTraffic) -> None:
        self.spec = spec
        self._by_name = {request.name: request for request in spec.requests}
        self._seed = 0
        self._run = ""
        self._urls: dict[str, str] = {}
        self._env: dict[str, str] = {}
        self._fixed: dict[str, Any] = {}
        self._pools: dict[str, list[Any]] = {}
        self._secret_values: set[str] = set()
        self._lock = threading.Lock()
        self._deck: WeightedDeck | None = None
        captured = {name for request in spec.requests for name in request.capture}
        self._needs = {r.name: r.used() & (captured - self._fixed_names()) for r in spec.requests}

    def _fixed_names(self) -> set[str]:
        fixed = set(self.spec.generators) | BUILTIN_VARIABLES
        for request in self.spec.setup:
            fixed |= set(request.capture)
        return fixed

    # -- setup ----------------------------------------------------------------------------

    def setup(self, system: TrafficSystem, seed: int, client: httpx.Client) -> Mapping[str, Any]:
        self._seed = seed
        self._run = f"{random.SystemRandom().randrange(16**8):08x}"
        services = {r.service for r in (*self.spec.setup, *self.spec.requests)}
        self._urls = {service: system.url(service).rstrip("/") for service in services}
        for name, generator in self.spec.generators.items():
            if isinstance(generator, EnvGenerator):
                value = os.environ.get(generator.env)
                if value is None:
                    raise TrafficError(
                        f"traffic generator {name!r}: environment variable "
                        f"{generator.env} is not set"
                    )
                self._env[name] = value
                self._secret_values.add(value)
        self._deck = WeightedDeck({r.name: r.weight for r in self.spec.requests}, seed)
        for index, request in enumerate(self.spec.setup):
            rng = random.Random(f"{seed}:setup:{index}")
            record, body = self._send(request, rng, index, client)
            if not record.ok:
                answer = f"HTTP {record.status}" if record.status is not None else record.error
                raise TrafficError(
                    f"traffic setup {request.name}: {request.method} "
                    f"{record.data.get('path')} answered {answer}"
                    + (f": {self._redact(str(body))[:200]}" if body is not None else "")
                )
            for var, path in request.capture.items():
                try:
                    self._fixed[var] = _dig(body, path)
                except KeyError:
                    raise TrafficError(
                        f"traffic setup {request.name}: no {path!r} in the answer to capture "
                        f"as {var!r}"
                    ) from None
                if var in self.spec.secret_names:
                    self._secret_values.add(str(self._fixed[var]))
        return {
            var: REDACTED if var in self.spec.secret_names else value
            for var, value in self._fixed.items()
        }

    # -- one request ----------------------------------------------------------------------

    def request(self, index: int, client: httpx.Client) -> TrafficRecord:
        assert self._deck is not None, "setup() first"
        rng = request_rng(self._seed, index)
        request = self._ready(index)
        if request is None:
            return TrafficRecord(
                name=self._deck.name(index),
                started_at=time.time(),
                latency=0.0,
                status=None,
                error="no request ready: every one needs a value not captured yet",
            )
        record, _ = self._send(request, rng, index, client)
        return record

    def _ready(self, index: int) -> DeclaredRequest | None:
        """The deck's request for `index`, or the next one in the deck whose captured
        values exist already."""
        assert self._deck is not None
        with self._lock:
            have = {name for name, pool in self._pools.items() if pool}
        for offset in range(len(self._deck)):
            request = self._by_name[self._deck.name(index + offset)]
            if self._needs[request.name] <= have:
                return request
        return None

    def _values(self, request: DeclaredRequest, rng: random.Random, index: int) -> dict[str, Any]:
        values: dict[str, Any] = {"index": index, "seed": self._seed, "run": self._run}
        values.update(self._fixed)
        used = request.used()
        for name in sorted(used & set(self.spec.generators)):
            values[name] = self._generate(name, rng)
        for name in sorted(used - set(values)):
            with self._lock:
                pool = list(self._pools.get(name, ()))
            values[name] = rng.choice(pool)
        return values

    def _generate(self, name: str, rng: random.Random) -> Any:
        generator = self.spec.generators[name]
        if isinstance(generator, IntGenerator):
            return rng.randint(*generator.int_)
        if isinstance(generator, ChoiceGenerator):
            return generator.choice[rng.randrange(len(generator.choice))]
        if isinstance(generator, TextGenerator):
            return "".join(rng.choice(_TEXT) for _ in range(generator.text))
        return self._env[name]

    def _send(
        self, request: DeclaredRequest, rng: random.Random, index: int, client: httpx.Client
    ) -> tuple[TrafficRecord, Any]:
        values = self._values(request, rng, index)
        secret = self.spec.secret_names
        hidden = {str(values[name]) for name in request.used() & secret}
        path = fill(request.path, values)
        headers = {key: str(fill(value, values)) for key, value in request.headers.items()}
        hidden |= {
            value
            for key, value in headers.items()
            if key.lower() in ALWAYS_SECRET_HEADERS or key in secret or key.lower() in secret
        }
        body = fill(request.json_body, values)
        hidden |= set(_field_values(body, secret))
        with self._lock:
            self._secret_values |= {value for value in hidden if value}
        shown = {
            name: values[name] for name in sorted(request.used() - {"seed"}) if name not in secret
        }
        data: dict[str, Any] = {"method": request.method, "path": self._redact(path)}
        if shown:
            data["vars"] = {name: self._redact_value(value) for name, value in shown.items()}
        record, response = send(
            client,
            request.name,
            request.method,
            self._urls[request.service] + path,
            expect=request.expect,
            data=data,
            headers=headers,
            **({"json": body} if request.json_body is not None else {}),
        )
        answer = _json(response)
        if request.capture and record.ok and answer is not None:
            record = self._capture(request, record, answer)
        return record, answer

    def _capture(
        self, request: DeclaredRequest, record: TrafficRecord, answer: Any
    ) -> TrafficRecord:
        kept: dict[str, Any] = {}
        for var, path in request.capture.items():
            try:
                value = _dig(answer, path)
            except KeyError:
                continue
            with self._lock:
                pool = self._pools.setdefault(var, [])
                pool.append(value)
                del pool[:-_POOL_CAP]
                if var in self.spec.secret_names:
                    self._secret_values.add(str(value))
            kept[var] = REDACTED if var in self.spec.secret_names else value
        if not kept:
            return record
        return dataclasses.replace(record, data={**record.data, "captured": kept})

    def _redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secret_values, key=len, reverse=True)
        for value in secrets:
            text = text.replace(value, REDACTED)
        return text

    def _redact_value(self, value: Any) -> Any:
        return self._redact(value) if isinstance(value, str) else value


def _field_values(value: Any, names: Iterable[str]) -> list[str]:
    """String forms of the values of the mapping keys in `names`, at any depth."""
    names = set(names)
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in names and item is not None:
                found.append(str(item))
            found += _field_values(item, names)
    elif isinstance(value, list):
        for item in value:
            found += _field_values(item, names)
    return found


def _json(response: httpx.Response | None) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None
