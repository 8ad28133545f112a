"""Toxics change on open connections, as on the real server, without losing or reordering data."""

from __future__ import annotations

import os
import threading
import time

from harness import http_clients
from harness.faultproxy import start_in_thread

from .support import (
    Api,
    ProxyInfo,
    TcpServer,
    connect,
    embedded_only,
    read_until_closed,
    recv_exactly,
    split_listen,
    timed,
    wait_until,
)


def test_a_toxic_added_to_an_open_connection_takes_effect(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        sock.sendall(b"1")
        assert recv_exactly(sock, 1) == b"1"
        api.add_toxic(proxy, "latency", attributes={"latency": 150})
        sock.sendall(b"2")
        _, elapsed = timed(lambda: recv_exactly(sock, 1))
        assert elapsed >= 0.145


def test_disabling_closes_connections_whose_data_a_toxic_holds(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 5000})
    with connect(proxy) as sock:
        sock.sendall(b"held")
        time.sleep(0.1)
        start = time.monotonic()
        api.patch_proxy(proxy, enabled=False)
        read_until_closed(sock)
        assert time.monotonic() - start < 3.0


def test_data_survives_toxics_changing_under_a_busy_connection(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    payload = os.urandom(4 << 20)
    received = bytearray()
    with connect(proxy) as sock:

        def send() -> None:
            for offset in range(0, len(payload), 8192):
                sock.sendall(payload[offset : offset + 8192])
                time.sleep(0.001)

        def receive() -> None:
            received.extend(recv_exactly(sock, len(payload)))

        sender, receiver = threading.Thread(target=send), threading.Thread(target=receive)
        sender.start()
        receiver.start()
        rounds = 0
        while sender.is_alive() and rounds < 20:
            rounds += 1
            api.add_toxic(proxy, "noop", name="n")
            api.add_toxic(proxy, "latency", name="l", stream="upstream", attributes={"latency": 2})
            api.add_toxic(
                proxy,
                "slicer",
                name="s",
                attributes={"average_size": 3000, "size_variation": 500},
            )
            api.http.patch(f"/proxies/{proxy.name}/toxics/l", json={"attributes": {"jitter": 1}})
            api.remove_toxic(proxy, "n")
            api.remove_toxic(proxy, "s")
            api.remove_toxic(proxy, "l")  # back to no toxic at all
        sender.join(30)
        receiver.join(30)
    assert rounds >= 2  # the toxics did change while data was flowing
    assert len(received) == len(payload)
    assert bytes(received) == payload


@embedded_only
def test_removing_the_last_toxic_returns_links_to_the_fast_path(echo_server: TcpServer) -> None:
    with (
        start_in_thread(port=0) as handle,
        http_clients.client(base_url=handle.url, timeout=10.0) as http,
    ):
        created = http.post(
            "/proxies",
            json={"name": "p", "listen": "127.0.0.1:0", "upstream": echo_server.address},
        ).json()
        proxy = ProxyInfo("p", *split_listen(created["listen"]), created)
        links = handle.server.proxies.proxies["p"].toxics.links
        with connect(proxy) as sock:
            sock.sendall(b"a")
            recv_exactly(sock, 1)
            assert len(links) == 2
            assert all(link.fast for link in links)
            http.post("/proxies/p/toxics", json={"type": "noop"})
            assert not all(link.fast for link in links)
            sock.sendall(b"b")
            assert recv_exactly(sock, 1) == b"b"
            http.delete("/proxies/p/toxics/noop_downstream")
            wait_until(lambda: all(link.fast for link in links))
            sock.sendall(b"c")
            assert recv_exactly(sock, 1) == b"c"
