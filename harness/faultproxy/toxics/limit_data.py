"""`limit_data`: passes at most `bytes` bytes in its direction, then closes the connection.
The chunk crossing the limit is truncated. The count is per connection and direction and
survives updates of the toxic (a raised limit lets more through on open connections)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import Chunk, Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["LimitDataToxic"]


class _Sent:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


@dataclass(frozen=True, slots=True)
class LimitDataToxic(Toxic):
    TYPE = "limit_data"
    GO_NAME = "LimitDataToxic"

    bytes: int = go_int64()

    def new_state(self) -> object:
        return _Sent()

    async def pipe(self, stub: Stub) -> None:
        sent = stub.state
        assert isinstance(sent, _Sent)
        remaining = self.bytes - sent.count
        while (chunk := await stub.next_chunk()) is not None:
            remaining = max(remaining, 0)
            if remaining < len(chunk.data):
                chunk = Chunk(chunk.data[:remaining], chunk.timestamp)
            if chunk.data:
                await stub.send(chunk)
                sent.count += len(chunk.data)
            remaining = self.bytes - sent.count
            if remaining <= 0:
                stub.close()
                return
