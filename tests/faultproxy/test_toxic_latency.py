"""latency: each chunk is delayed by latency ± jitter, measured from when it was read."""

from __future__ import annotations

import socket
import time

from .support import SLACK, Api, TcpServer, connect, recv_exactly, timed


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    sock.sendall(payload)
    _, elapsed = timed(lambda: recv_exactly(sock, len(payload)))
    return elapsed


def test_downstream_latency_delays_every_reply(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 100})
    with connect(proxy) as sock:
        for _ in range(3):
            assert 0.095 <= round_trip(sock) < SLACK


def test_upstream_latency_delays_requests(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", stream="upstream", attributes={"latency": 100})
    with connect(proxy) as sock:
        assert 0.095 <= round_trip(sock) < SLACK


def test_latencies_of_both_directions_add_up(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", stream="upstream", attributes={"latency": 60})
    api.add_toxic(proxy, "latency", attributes={"latency": 60})
    with connect(proxy) as sock:
        assert 0.115 <= round_trip(sock) < SLACK


def test_jitter_keeps_each_delay_within_latency_minus_jitter(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 100, "jitter": 40})
    with connect(proxy) as sock:
        for _ in range(5):
            assert 0.055 <= round_trip(sock) < SLACK


def test_chunks_queued_behind_a_delayed_chunk_are_not_delayed_twice(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 200})
    with connect(proxy) as sock:
        start = time.monotonic()
        for i in range(5):
            sock.sendall(bytes([65 + i]))
            time.sleep(0.02)
        assert recv_exactly(sock, 5) == b"ABCDE"
        elapsed = time.monotonic() - start
    # Delayed one after another they would take 1 s; pipelined, about 0.28 s.
    assert 0.195 <= elapsed < 0.8


def test_removing_the_toxic_flushes_held_data_at_once(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 4000})
    with connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"held")
        time.sleep(0.2)
        api.remove_toxic(proxy, "latency_downstream")
        assert recv_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 3.0


def test_updating_latency_applies_to_an_open_connection(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 3000})
    with connect(proxy) as sock:
        response = api.http.patch(
            f"/proxies/{proxy.name}/toxics/latency_downstream",
            json={"attributes": {"latency": 50}},
        )
        assert response.status_code == 200
        assert 0.045 <= round_trip(sock) < 2.5
