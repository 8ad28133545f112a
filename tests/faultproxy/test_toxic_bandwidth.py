"""bandwidth: a rate limit in KB/s (1 KB = 1000 bytes)."""

from __future__ import annotations

import pytest

from .support import (
    SLACK,
    Api,
    TcpServer,
    connect,
    embedded_only,
    nothing_arrives,
    read_until_closed,
    recv_exactly,
    send_and_close,
    tcp_server,
    timed,
)

PAYLOAD = bytes(range(256)) * 200  # 51.2 KB


def test_downstream_rate_limits_the_transfer(api: Api) -> None:
    with tcp_server(send_and_close(PAYLOAD)) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "bandwidth", attributes={"rate": 100})
        with connect(proxy) as sock:
            (data, how), elapsed = timed(lambda: read_until_closed(sock))
    assert (data, how) == (PAYLOAD, "eof")
    # 51.2 KB at 100 KB/s: 0.51 s.
    assert 0.45 <= elapsed < SLACK + 0.5


def test_upstream_rate_limits_what_the_server_receives(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "bandwidth", stream="upstream", attributes={"rate": 100})
    payload = PAYLOAD[:30_000]
    with connect(proxy) as sock:
        sock.sendall(payload)
        data, elapsed = timed(lambda: recv_exactly(sock, len(payload)))
    assert data == payload
    assert 0.27 <= elapsed < SLACK


@pytest.mark.parametrize("rate", [0, pytest.param(-5, marks=embedded_only)])
def test_a_rate_of_zero_or_less_stalls_until_the_toxic_is_removed(
    api: Api, echo_server: TcpServer, rate: int
) -> None:
    # The real server stalls at 0 and crashes on a negative rate; the embedded one stalls.
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "bandwidth", attributes={"rate": rate})
    with connect(proxy) as sock:
        sock.sendall(b"stalled")
        assert nothing_arrives(sock, 0.3)
        api.remove_toxic(proxy, "bandwidth_downstream")
        assert recv_exactly(sock, 7) == b"stalled"
