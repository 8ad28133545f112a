"""slow_close: data flows; the close after end of input is delayed."""

from __future__ import annotations

import socket
import time

from .support import SLACK, Api, connect, hold_open, read_until_closed, recv_exactly, tcp_server


def test_close_from_the_server_reaches_the_client_late(api: Api) -> None:
    with tcp_server(lambda conn: conn.sendall(b"bye")) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "slow_close", attributes={"delay": 500})
        start = time.monotonic()
        with connect(proxy) as sock:
            assert recv_exactly(sock, 3) == b"bye"
            data_at = time.monotonic()
            assert read_until_closed(sock) == (b"", "eof")
            closed_at = time.monotonic()
    assert closed_at - start >= 0.45
    assert closed_at - data_at >= 0.3  # the data itself was not held back
    assert closed_at - start < SLACK


def test_client_half_close_is_delayed_on_the_way_back(api: Api) -> None:
    with tcp_server(hold_open) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "slow_close", attributes={"delay": 700})
        with connect(proxy) as sock:
            time.sleep(0.1)
            start = time.monotonic()
            sock.shutdown(socket.SHUT_WR)
            assert read_until_closed(sock) == (b"", "eof")
            assert 0.65 <= time.monotonic() - start < SLACK


def test_removing_the_toxic_during_the_delay_closes_at_once(api: Api) -> None:
    with tcp_server(lambda conn: None) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "slow_close", attributes={"delay": 5000})
        with connect(proxy) as sock:
            time.sleep(0.2)  # the server has closed; the close is being held
            start = time.monotonic()
            api.remove_toxic(proxy, "slow_close_downstream")
            assert read_until_closed(sock) == (b"", "eof")
            assert time.monotonic() - start < 3.0
