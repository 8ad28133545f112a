"""`slow_close`: data passes through; the close that follows end of input is delayed by
`delay` ms. Removing the toxic during the delay closes at once."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import INTERRUPTED, Chunk, Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["SlowCloseToxic"]


@dataclass(frozen=True, slots=True)
class SlowCloseToxic(Toxic):
    TYPE = "slow_close"
    GO_NAME = "SlowCloseToxic"

    delay: int = go_int64()  # ms

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is INTERRUPTED:
                return
            if chunk is None:
                if await stub.sleep(self.delay / 1000):
                    return
                stub.close()
                return
            assert isinstance(chunk, Chunk)
            await stub.send(chunk)
