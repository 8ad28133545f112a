"""http_error: the proxy answers matching requests itself; the upstream never sees them."""

from __future__ import annotations

from harness import http_clients

from .http_upstream import HttpUpstream
from .support import Api, connect, embedded_only, read_until_closed, recv_exactly

pytestmark = embedded_only


def test_answers_with_status_body_and_headers_and_upstream_never_sees_it(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    toxic = api.add_toxic(
        proxy,
        "http_error",
        attributes={"status": 500, "body": "boom", "headers": {"X-Fault": "yes"}},
    )
    assert toxic["attributes"] == {
        "method": "",
        "path": "",
        "first": 0,
        "status": 500,
        "body": "boom",
        "headers": {"X-Fault": "yes"},
    }
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        response = client.post("/payments", json={"amount": 5})
    assert response.status_code == 500
    assert response.text == "boom"
    assert response.headers["x-fault"] == "yes"
    assert http_server.seen == []


def test_status_defaults_to_503_with_an_empty_body(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error")
    response = http_clients.get(f"http://{proxy.listen}/x")
    assert (response.status_code, response.content) == (503, b"")


def test_keep_alive_connection_serves_answered_and_forwarded_requests_in_turn(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"status": 502, "path": "^/fail"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        statuses = [client.get(path).status_code for path in ["/ok", "/fail", "/ok2", "/fail/1"]]
        assert statuses == [200, 502, 200, 502]
    assert http_server.paths() == ["/ok", "/ok2"]
    assert http_server.server.seen  # one connection did it all:
    assert len({s.headers.get("host") for s in http_server.seen}) == 1


def test_head_request_gets_no_body(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"body": "not for HEAD"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        head = client.head("/x")
        get = client.get("/x")
    assert (head.status_code, head.content, head.headers["content-length"]) == (503, b"", "12")
    assert get.content == b"not for HEAD"


def test_a_client_waiting_for_100_continue_is_answered_at_once_and_closed(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"status": 413})
    with connect(proxy) as sock:
        sock.sendall(
            b"PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        data, how = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert b"Connection: close\r\n" in data
    assert how == "eof"
    assert http_server.seen == []


def test_a_forwarded_request_gets_the_upstream_100_continue(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", attributes={"path": "^/never"})
    with connect(proxy) as sock:
        sock.sendall(
            b"PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert recv_exactly(sock, 25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        assert recv_exactly(sock, 12) == b"HTTP/1.1 200"
    assert http_server.seen[0].body == b"abc"
