"""The direct path (no toxic): bytes intact, and flow control instead of unbounded buffering."""

from __future__ import annotations

import os
import socket
import threading
import time

from .support import Api, TcpServer, connect, recv_exactly, tcp_server

MB = 1 << 20


def test_eight_megabytes_echo_intact(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    payload = os.urandom(8 * MB)
    with connect(proxy) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = recv_exactly(sock, len(payload))
        sender.join()
    assert echoed == payload


def test_a_client_that_does_not_read_slows_the_server_down(api: Api) -> None:
    total = 96 * MB
    sent = [0]
    finished = threading.Event()

    def flood(conn: socket.socket) -> None:
        conn.settimeout(0.5)
        block = bytes(64 * 1024)
        try:
            while sent[0] < total:
                sent[0] += conn.send(block)
        except (TimeoutError, OSError):
            pass  # blocked by flow control: what the test expects
        finally:
            finished.set()

    with tcp_server(flood) as server:
        proxy = api.create_proxy(server.address)
        with connect(proxy) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            assert finished.wait(10.0)
            time.sleep(0.1)
            # Kernel buffers on both hops hold a few MB; without flow control the proxy
            # would have read all 96 MB into memory.
            assert MB < sent[0] < 48 * MB
