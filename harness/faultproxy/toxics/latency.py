"""`latency`: delays each chunk by `latency` ms plus a jitter drawn from [-jitter, +jitter).

The delay is measured from the moment the chunk was read from the socket, so chunks queued
behind a sleeping one are not delayed twice (1024 chunks may queue). When interrupted (the
toxic is removed or updated) the chunk being held is passed on at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.faultproxy.stream import Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["LatencyToxic"]


@dataclass(frozen=True, slots=True)
class LatencyToxic(Toxic):
    TYPE = "latency"
    GO_NAME = "LatencyToxic"
    BUFFER_SIZE = 1024

    latency: int = go_int64()  # ms
    jitter: int = go_int64()  # ms

    def delay(self, rng: random.Random) -> float:
        """This chunk's delay in seconds."""
        delay = self.latency
        if self.jitter > 0:
            delay += rng.randrange(self.jitter * 2) - self.jitter
        return delay / 1000

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.next_chunk()) is not None:
            sleep = self.delay(stub.rng) - (stub.now() - chunk.timestamp)
            if await stub.sleep(sleep):
                await stub.send(chunk)  # don't drop data on the floor
                return
            # Chained latency toxics add up: the next one measures from here.
            chunk.timestamp += sleep
            await stub.send(chunk)
