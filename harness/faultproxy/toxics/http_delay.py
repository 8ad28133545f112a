"""`http_delay`: holds each matching response for `latency` ms plus a uniform draw from
[0, `jitter`] ms, counted from when the response begins to arrive. Responses behind a held
one on the same connection wait for it (HTTP/1.1 keeps them in order). Removing the toxic
releases what it holds at once, as removing `latency` does."""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.faultproxy.toxics.base import BadAttribute, go_int64
from harness.faultproxy.toxics.http_base import HttpToxic

__all__ = ["HttpDelayToxic"]


@dataclass(frozen=True, slots=True)
class HttpDelayToxic(HttpToxic):
    TYPE = "http_delay"
    GO_NAME = "HttpDelayToxic"

    latency: int = go_int64()  # ms
    jitter: int = go_int64()  # ms

    def validate(self) -> None:
        HttpToxic.validate(self)
        for name in ("latency", "jitter"):
            if getattr(self, name) < 0:
                raise BadAttribute(name, f"must be 0 or more ms, got {getattr(self, name)}")

    def delay(self, rng: random.Random) -> float:
        """This response's delay in seconds."""
        jitter = rng.randint(0, self.jitter) if self.jitter > 0 else 0
        return (self.latency + jitter) / 1000
