"""timeout: drops data; closes after `timeout` ms without data, never when 0."""

from __future__ import annotations

import time

from .support import SLACK, Api, TcpServer, connect, nothing_arrives, read_until_closed


def test_connection_closes_after_the_timeout_with_no_data(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "timeout", attributes={"timeout": 300})
    start = time.monotonic()
    with connect(proxy) as sock:
        sock.sendall(b"dropped")
        assert read_until_closed(sock) == (b"", "eof")
    assert 0.28 <= time.monotonic() - start < SLACK


def test_each_dropped_chunk_restarts_the_timer(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "timeout", attributes={"timeout": 400})
    with connect(proxy) as sock:
        start = time.monotonic()
        for _ in range(3):
            sock.sendall(b"x")  # echoed back, dropped downstream: the timer restarts
            time.sleep(0.2)
        assert read_until_closed(sock) == (b"", "eof")
        # Last data at about 0.4 s, so the close comes at about 0.8 s, not 0.4 s.
        assert 0.7 <= time.monotonic() - start < SLACK


def test_upstream_timeout_keeps_data_from_the_server(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "timeout", stream="upstream", attributes={"timeout": 300})
    with connect(proxy) as sock:
        sock.sendall(b"never echoed")
        assert read_until_closed(sock) == (b"", "eof")


def test_zero_timeout_holds_the_connection_until_the_toxic_is_removed(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "timeout", attributes={"timeout": 0})
    with connect(proxy) as sock:
        sock.sendall(b"black hole")
        assert nothing_arrives(sock, 0.5)
        # Removing a timeout toxic closes the connections it affects.
        api.remove_toxic(proxy, "timeout_downstream")
        assert read_until_closed(sock) == (b"", "eof")
