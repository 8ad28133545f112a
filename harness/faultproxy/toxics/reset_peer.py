"""`reset_peer`: on the first data (or end of input) in its direction, waits `timeout` ms
(0: at once) and closes the connection, dropping that data.

When the toxic is on the proxy as a connection is accepted, both of its sockets get
SO_LINGER 0, so this close (and any later one) is a TCP RST, as in the real server. Added to
an already open connection, the close is a normal FIN there too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.faultproxy.stream import INTERRUPTED, Stub
from harness.faultproxy.toxics.base import Toxic, go_int64

__all__ = ["ResetPeerToxic"]


@dataclass(frozen=True, slots=True)
class ResetPeerToxic(Toxic):
    TYPE = "reset_peer"
    GO_NAME = "ResetToxic"
    RESETS_PEER = True

    timeout: int = go_int64()  # ms

    async def pipe(self, stub: Stub) -> None:
        if await stub.recv() is INTERRUPTED:
            return
        # Like the real server, this wait cannot be interrupted.
        await asyncio.sleep(max(0.0, self.timeout / 1000))
        stub.close()
