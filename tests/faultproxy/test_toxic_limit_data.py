"""limit_data: at most `bytes` bytes per connection and direction, then close."""

from __future__ import annotations

import socket
import threading

from .support import (
    IO_TIMEOUT,
    Api,
    TcpServer,
    connect,
    read_until_closed,
    recv_exactly,
    tcp_server,
)


def test_downstream_limit_truncates_then_closes(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "limit_data", attributes={"bytes": 3})
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        assert read_until_closed(sock) == (b"hel", "eof")


def test_upstream_limit_caps_what_the_server_receives(api: Api) -> None:
    received = bytearray()
    done = threading.Event()

    def record(conn: socket.socket) -> None:
        try:
            while chunk := conn.recv(65536):
                received.extend(chunk)
        finally:
            done.set()

    with tcp_server(record) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "limit_data", stream="upstream", attributes={"bytes": 5})
        with connect(proxy) as sock:
            sock.sendall(b"hello world")
            read_until_closed(sock)
        assert done.wait(IO_TIMEOUT)
    assert bytes(received) == b"hello"


def test_the_count_survives_an_update_of_the_limit(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "limit_data", attributes={"bytes": 4})
    with connect(proxy) as sock:
        sock.sendall(b"ab")
        assert recv_exactly(sock, 2) == b"ab"
        response = api.http.patch(
            f"/proxies/{proxy.name}/toxics/limit_data_downstream",
            json={"attributes": {"bytes": 6}},
        )
        assert response.status_code == 200
        sock.sendall(b"cdefgh")
        assert read_until_closed(sock) == (b"cdef", "eof")


def test_a_zero_limit_closes_at_the_first_data(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "limit_data", attributes={"bytes": 0})
    with connect(proxy) as sock:
        sock.sendall(b"x")
        assert read_until_closed(sock) == (b"", "eof")
