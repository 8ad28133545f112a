"""toxicity: the chance, drawn per connection and direction, that a toxic applies."""

from __future__ import annotations

import socket

from harness import http_clients
from harness.faultproxy import start_in_thread

from .support import (
    Api,
    ProxyInfo,
    TcpServer,
    connect,
    embedded_only,
    recv_exactly,
    split_listen,
    timed,
)


def round_trip(proxy: ProxyInfo) -> float:
    with connect(proxy) as sock:
        sock.sendall(b"?")
        _, elapsed = timed(lambda: recv_exactly(sock, 1))
    return elapsed


def test_toxicity_zero_never_applies(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", toxicity=0, attributes={"latency": 3000})
    assert round_trip(proxy) < 2.5


def test_toxicity_one_always_applies(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", toxicity=1, attributes={"latency": 100})
    assert all(round_trip(proxy) >= 0.095 for _ in range(3))


def cut_short(proxy: ProxyInfo) -> bool:
    """Whether a connection's echo was cut by a 0-byte limit_data (no timing involved)."""
    with connect(proxy) as sock:
        sock.sendall(b"?")
        data, _ = read_until_closed_or(sock, 1)
    return data == b""


def read_until_closed_or(sock: socket.socket, size: int) -> tuple[bytes, bool]:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


def test_draws_are_per_connection(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "limit_data", toxicity=0.5, attributes={"bytes": 0})
    # One draw for the whole proxy would cut all or none of 16 connections;
    # draws per connection do both, except with probability 2 * 0.5**16.
    cut = [cut_short(proxy) for _ in range(16)]
    assert True in cut
    assert False in cut


def cut_pattern(url: str, upstream: str, *, connections: int) -> list[bool]:
    """Which of successive connections a 50 % limit_data toxic cut short."""
    with http_clients.client(base_url=url, timeout=10.0) as http:
        created = http.post(
            "/proxies", json={"name": "seeded", "listen": "127.0.0.1:0", "upstream": upstream}
        ).json()
        http.post(
            "/proxies/seeded/toxics",
            json={"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 0}},
        )
    proxy = ProxyInfo("seeded", *split_listen(created["listen"]), created)
    return [cut_short(proxy) for _ in range(connections)]


@embedded_only
def test_a_seeded_server_replays_the_same_draws(echo_server: TcpServer) -> None:
    patterns = []
    for _ in range(2):
        with start_in_thread(port=0, seed=42) as handle:
            patterns.append(cut_pattern(handle.url, echo_server.address, connections=12))
    assert patterns[0] == patterns[1]
    assert True in patterns[0]
    assert False in patterns[0]
