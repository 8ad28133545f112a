"""reset_peer: closes with a TCP RST on the first data, after `timeout` ms."""

from __future__ import annotations

import time

from .support import SLACK, Api, TcpServer, connect, read_until_closed, recv_exactly


def test_downstream_reset_peer_resets_the_client_on_first_reply(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "reset_peer", attributes={"timeout": 0})
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        assert read_until_closed(sock) == (b"", "reset")


def test_upstream_reset_peer_waits_its_timeout(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "reset_peer", stream="upstream", attributes={"timeout": 300})
    with connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"hello")
        assert read_until_closed(sock) == (b"", "reset")
        assert 0.28 <= time.monotonic() - start < SLACK


def test_no_data_no_reset(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "reset_peer", stream="upstream", attributes={"timeout": 0})
    with connect(proxy) as sock:
        sock.settimeout(0.3)
        try:
            sock.recv(1)
        except TimeoutError:
            pass
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError("the connection ended although no data was sent")


def test_added_to_an_open_connection_the_close_is_a_normal_one(
    api: Api, echo_server: TcpServer
) -> None:
    # SO_LINGER 0 is only set when the toxic is present as the connection is accepted.
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        sock.sendall(b"a")
        assert recv_exactly(sock, 1) == b"a"
        api.add_toxic(proxy, "reset_peer", attributes={"timeout": 0})
        sock.sendall(b"b")
        assert read_until_closed(sock) == (b"", "eof")
