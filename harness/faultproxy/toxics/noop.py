"""`noop`: passes every chunk through. Also the hidden first stage of every chain, and what a
link runs instead of a toxic whose toxicity draw failed."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import INTERRUPTED, Chunk, Stub
from harness.faultproxy.toxics.base import Toxic

__all__ = ["NOOP", "NoopToxic"]


@dataclass(frozen=True, slots=True)
class NoopToxic(Toxic):
    TYPE = "noop"
    GO_NAME = "NoopToxic"

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is INTERRUPTED:
                return
            if chunk is None:
                stub.close()
                return
            assert isinstance(chunk, Chunk)
            await stub.send(chunk)


NOOP = NoopToxic()
