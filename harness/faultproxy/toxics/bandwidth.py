"""`bandwidth`: limits a direction to `rate` KB/s (1 KB = 1000 bytes).

Chunks larger than `rate * 100` bytes are split and sent at 100 ms intervals; the sleep owed
for a chunk (`bytes / rate` ms) carries over between chunks so the average rate holds.

Deviation from the real server (documented choice): `rate` 0 stalls all data there (its split
loop never advances), and so it does here; a negative `rate` crashes the real server
(`slice bounds out of range`) and here behaves like 0: data is held until the toxic is
removed or updated, which flushes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import Chunk, Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["BandwidthToxic"]

SPLIT_INTERVAL = 0.1  # seconds between the pieces of a large chunk
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class BandwidthToxic(Toxic):
    TYPE = "bandwidth"
    GO_NAME = "BandwidthToxic"

    rate: int = go_int64()  # KB/s

    async def pipe(self, stub: Stub) -> None:
        owed_ns = 0  # Go's `sleep`, in nanoseconds
        while (chunk := await stub.next_chunk()) is not None:
            if self.rate <= 0:
                await stub.hold()
                await stub.send(chunk)
                return
            owed_ns += len(chunk.data) * 1_000_000 // self.rate
            data, step = chunk.data, self.rate * 100
            while len(data) > step:
                if await stub.sleep(SPLIT_INTERVAL):
                    await stub.send(Chunk(data, chunk.timestamp))
                    return
                await stub.send(Chunk(data[:step], chunk.timestamp))
                data = data[step:]
                owed_ns -= int(SPLIT_INTERVAL * NS)
            start = stub.now()
            if await stub.sleep(owed_ns / NS):
                await stub.send(Chunk(data, chunk.timestamp))
                return
            # Timers are coarse: carry the difference over to the next chunk.
            owed_ns -= int((stub.now() - start) * NS)
            await stub.send(Chunk(data, chunk.timestamp))
