"""`noop`: passes every chunk through. Also the hidden first stage of every chain, and what a
link runs instead of a toxic whose toxicity draw failed."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import Stub
from harness.faultproxy.toxics.base import Toxic

__all__ = ["NOOP", "NoopToxic"]


@dataclass(frozen=True, slots=True)
class NoopToxic(Toxic):
    TYPE = "noop"
    GO_NAME = "NoopToxic"

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.next_chunk()) is not None:
            await stub.send(chunk)


NOOP = NoopToxic()
