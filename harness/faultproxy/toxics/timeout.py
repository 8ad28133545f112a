"""`timeout`: drops every chunk of its direction. With `timeout` > 0 the connection closes
after that many ms without data in this direction (each dropped chunk restarts the timer);
with 0 it never closes by itself. End of input closes at once, and so does removing the
toxic (its cleanup closes the stub)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.stream import INTERRUPTED, TIMED_OUT, Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["TimeoutToxic"]


@dataclass(frozen=True, slots=True)
class TimeoutToxic(Toxic):
    TYPE = "timeout"
    GO_NAME = "TimeoutToxic"
    HAS_CLEANUP = True

    timeout: int = go_int64()  # ms; 0 = never

    async def pipe(self, stub: Stub) -> None:
        wait = self.timeout / 1000 if self.timeout > 0 else None
        while True:
            chunk = await stub.recv(give_up_after=wait)
            if chunk is INTERRUPTED:
                return
            if chunk is None or chunk is TIMED_OUT:
                stub.close()
                return
            # Anything else is dropped on the ground.

    def cleanup(self, stub: Stub) -> None:
        stub.close()
