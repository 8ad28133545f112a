"""`slicer`: splits each chunk into pieces of about `average_size` bytes (± `size_variation`)
and waits `delay` microseconds after each piece.

The split is the real server's: halve at the midpoint moved by a random offset in
[-size_variation, +size_variation), recursively, until a piece is at most
`average_size + size_variation` bytes.

Deviations from the real server (documented choices): with `average_size` and
`size_variation` both 0 (the defaults) the real server recurses forever and dies of a stack
overflow; here pieces never get smaller than 1 byte, so that setting slices into single bytes.
A negative `size_variation` counts as 0, and a split point is kept strictly inside its piece
(a variation larger than half a piece would otherwise make empty or out-of-range pieces).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.faultproxy.stream import Chunk, Stub
from harness.faultproxy.toxics.base import Toxic, go_int

__all__ = ["SlicerToxic"]


@dataclass(frozen=True, slots=True)
class SlicerToxic(Toxic):
    TYPE = "slicer"
    GO_NAME = "SlicerToxic"

    average_size: int = go_int()  # bytes
    size_variation: int = go_int()  # bytes
    delay: int = go_int()  # microseconds

    def pieces(self, size: int, rng: random.Random) -> list[tuple[int, int]]:
        """Start and end offsets of the pieces of a chunk of `size` bytes, in order."""
        variation = max(0, self.size_variation)
        out: list[tuple[int, int]] = []
        todo = [(0, size)]
        while todo:
            start, end = todo.pop()
            length = end - start
            if length - self.average_size <= variation or length <= 1:
                out.append((start, end))
                continue
            mid = start + length // 2
            if variation:
                mid += rng.randrange(variation * 2) - variation
            mid = min(max(mid, start + 1), end - 1)
            todo.append((mid, end))
            todo.append((start, mid))  # depth first, left first: the real server's order
        return out

    async def pipe(self, stub: Stub) -> None:
        pause = self.delay / 1_000_000
        while (chunk := await stub.next_chunk()) is not None:
            data = chunk.data
            for start, end in self.pieces(len(data), stub.rng):
                await stub.send(Chunk(data[start:end], chunk.timestamp))
                if await stub.sleep(pause):
                    if end < len(data):
                        await stub.send(Chunk(data[end:], chunk.timestamp))
                    return
