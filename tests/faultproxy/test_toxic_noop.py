"""noop: passes everything through, on the chained path."""

from __future__ import annotations

import os
import threading

from .support import Api, TcpServer, connect, recv_exactly


def test_noop_passes_a_megabyte_both_ways_intact(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "noop")
    api.add_toxic(proxy, "noop", stream="upstream")
    payload = os.urandom(1 << 20)
    with connect(proxy) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = recv_exactly(sock, len(payload))
        sender.join()
    assert echoed == payload
