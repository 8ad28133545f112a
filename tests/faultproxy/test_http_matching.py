"""What every HTTP toxic shares: method and path matching, `first` N, toxicity per request,
keep-alive with mixed matches, chunked bodies, pipelining, and connections that are not HTTP."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

from harness import http_clients

from .http_upstream import HttpUpstream
from .support import (
    Api,
    TcpServer,
    connect,
    echo,
    embedded_only,
    read_until_closed,
    recv_exactly,
    tcp_server,
    wait_until,
)

pytestmark = embedded_only


def statuses(proxy_listen: str, requests: list[tuple[str, str]]) -> list[int]:
    with http_clients.client(base_url=f"http://{proxy_listen}") as client:
        return [client.request(method, path).status_code for method, path in requests]


def test_method_matches_in_any_case_and_path_is_a_regex_on_the_target(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"method": "post", "path": r"^/payments(\?|$)"})
    got = statuses(
        proxy.listen,
        [
            ("POST", "/payments"),
            ("POST", "/payments?retry=1"),
            ("GET", "/payments"),
            ("POST", "/payments/7/refund"),
            ("POST", "/orders"),
        ],
    )
    assert got == [503, 503, 200, 200, 200]
    assert http_server.paths() == ["/payments", "/payments/7/refund", "/orders"]


def test_first_n_fails_only_the_first_n_matching_requests_over_all_connections(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"first": 2, "path": "^/m"})
    first = statuses(proxy.listen, [("GET", "/other"), ("GET", "/m1")])
    second = statuses(proxy.listen, [("GET", "/m2"), ("GET", "/m3"), ("GET", "/m4")])
    assert first + second == [200, 503, 503, 200, 200]


def test_toxicity_half_fails_about_half_of_400_requests(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", toxicity=0.5)
    got = statuses(proxy.listen, [("GET", f"/r{i}") for i in range(400)])
    failed = got.count(503)
    # Binomial(400, 0.5): sd 10; five sd either way.
    assert 150 <= failed <= 250
    assert got.count(200) == 400 - failed == len(http_server.seen)


def test_keep_alive_with_mixed_matches_and_chunked_request_bodies(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"path": "^/fail", "status": 500})

    def chunks() -> Iterator[bytes]:
        yield b"hello "
        yield b"chunked "
        yield b"world"

    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        ok = client.post("/ok", content=chunks())
        failed = client.post("/fail", content=chunks())
        ok_again = client.post("/ok2?chunked=1", content=chunks())
        plain = client.post("/fail2", content=b"x" * 100_000)
        last = client.get("/last")
    assert ok.json()["body_length"] == 19
    assert failed.status_code == 500
    assert ok_again.json() == {"method": "POST", "path": "/ok2?chunked=1", "body_length": 19}
    assert plain.status_code == 500
    assert last.status_code == 200
    assert [(s.target, s.body) for s in http_server.seen] == [
        ("/ok", b"hello chunked world"),
        ("/ok2?chunked=1", b"hello chunked world"),
        ("/last", b""),
    ]


def test_pipelined_requests_with_mixed_matches_are_cut_at_their_boundaries(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"path": "^/no", "status": 418})
    batch = (
        b"POST /yes1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        b"POST /no HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
        b"GET /yes2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    with connect(proxy) as sock:
        sock.sendall(batch)
        data, _ = read_until_closed(sock)
    heads = re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", data)
    assert heads == [b"HTTP/1.1 200 OK", b"HTTP/1.1 418 I'm a Teapot", b"HTTP/1.1 200 OK"]
    assert [(s.target, s.body) for s in http_server.seen] == [("/yes1", b"abc"), ("/yes2", b"")]


def test_a_connection_that_is_not_http_passes_untouched(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "http_error")
    payload = b"\x00\x01binary, not HTTP\r\n\r\nGET / HTTP/1.1\r\n\r\n"
    with connect(proxy) as sock:
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload


def test_a_toxic_added_while_a_pooled_connection_is_open_applies_to_it(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        assert client.get("/before").status_code == 200
        toxic = api.add_toxic(proxy, "http_error", attributes={"status": 500})
        assert client.get("/during").status_code == 500
        api.remove_toxic(proxy, toxic["name"])
        assert client.get("/after").status_code == 200
        assert client.get("/after2").status_code == 200
    assert http_server.paths() == ["/before", "/after", "/after2"]
    assert http_server.server.seen  # all on the one pooled connection:
    assert len(http_server.seen) == 3


def test_http_and_tcp_toxics_combine(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 50})
    api.add_toxic(proxy, "http_error", attributes={"path": "^/e"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        assert client.get("/e").status_code == 503
        assert client.get("/ok").status_code == 200
    assert http_server.paths() == ["/ok"]


def test_seeded_server_draws_the_same_requests_each_time(
    api: Api, http_server: HttpUpstream
) -> None:
    runs = []
    for _ in range(2):
        proxy = api.create_proxy(http_server.address, name="seeded_http")
        api.add_toxic(proxy, "http_error", toxicity=0.5)
        runs.append(statuses(proxy.listen, [("GET", f"/s{i}") for i in range(20)]))
        api.http.delete(f"/proxies/{proxy.name}")
    assert runs[0] == runs[1]
    assert 0 < runs[0].count(503) < 20


def switch_then_echo(conn: socket.socket, received: list[bytes] | None = None) -> None:
    """An upstream that accepts an Upgrade, then echoes bytes that are not HTTP; what it
    reads before the switch goes to `received`."""
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(4096)
        if received is not None:
            received.append(data)
        if not data:
            return
        head += data
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
    )
    while data := conn.recv(65536):
        conn.sendall(data)


def test_an_upgraded_connection_passes_untouched_after_the_switch(api: Api) -> None:
    with tcp_server(switch_then_echo) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "http_error", attributes={"path": "^/never"})
        with connect(proxy) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
            )
            switched = (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
            )
            assert recv_exactly(sock, len(switched)) == switched
            for frame in (b"GET /never HTTP/1.1\r\n\r\n", b"\x81\x05hello"):
                sock.sendall(frame)
                assert recv_exactly(sock, len(frame)) == frame


def test_counting_alone_leaves_a_server_first_protocol_alone(api: Api) -> None:
    with tcp_server(lambda conn: (conn.sendall(b"220 ready\r\n"), echo(conn))) as server:
        proxy = api.create_proxy(server.address)
        api.http.post(f"/proxies/{proxy.name}/requests", json={"enabled": True})
        with connect(proxy) as sock:
            assert recv_exactly(sock, 11) == b"220 ready\r\n"
            sock.sendall(b"HELO there\r\n")
            assert recv_exactly(sock, 12) == b"HELO there\r\n"
        assert api.http.get(f"/proxies/{proxy.name}/requests").json()["total"] == 0


def test_an_upgrade_the_toxic_answers_is_refused_and_closed(api: Api) -> None:
    received: list[bytes] = []
    with tcp_server(lambda conn: switch_then_echo(conn, received)) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "http_error", attributes={"path": "^/ws", "status": 503})
        with connect(proxy) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
                b"\x81\x05hello"
            )
            data, how = read_until_closed(sock)
        assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"Connection: close\r\n" in data
        assert how == "eof"
        wait_until(lambda: received == [b""])  # dialled, then closed with nothing sent


def test_a_request_head_that_never_ends_is_passed_on_instead_of_held(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "http_error")
    payload = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (80 * 1024)
    with connect(proxy) as sock:
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload
