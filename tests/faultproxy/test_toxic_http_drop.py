"""http_drop: the request reaches the upstream, the response never reaches the client."""

from __future__ import annotations

import time

import httpx
import pytest

from harness import http_clients

from .http_upstream import HttpUpstream
from .support import (
    Api,
    connect,
    embedded_only,
    read_until_closed,
    recv_exactly,
    wait_until,
)

pytestmark = embedded_only


def test_upstream_sees_the_request_and_the_client_loses_the_response(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_drop", attributes={"method": "POST"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/payments", json={"amount": 5})
        assert client.get("/still-there").status_code == 200
    assert [(s.method, s.target) for s in http_server.seen] == [
        ("POST", "/payments"),
        ("GET", "/still-there"),
    ]
    assert http_server.seen[0].body == b'{"amount":5}'


def test_earlier_responses_on_the_connection_are_delivered_before_the_close(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_drop", attributes={"path": "^/lost$"})
    with connect(proxy) as sock:
        # Pipelined in one write: the first answer must arrive whole, then the close.
        sock.sendall(b"GET /kept HTTP/1.1\r\nHost: a\r\n\r\nGET /lost HTTP/1.1\r\nHost: a\r\n\r\n")
        data, how = read_until_closed(sock)
    assert how == "eof"
    assert data.startswith(b"HTTP/1.1 200")
    assert data.endswith(b'"/kept", "body_length": 0}')
    assert http_server.paths() == ["/kept", "/lost"]


def test_unmatched_requests_pass(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_drop", attributes={"method": "DELETE"})
    with connect(proxy) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
        head = recv_exactly(sock, 12)
    assert head == b"HTTP/1.1 200"


def test_removed_before_the_response_begins_the_response_is_delivered(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    toxic = api.add_toxic(proxy, "http_drop")
    with connect(proxy) as sock:
        sock.sendall(b"GET /slow?sleep=0.5 HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until(lambda: bool(http_server.seen))
        api.remove_toxic(proxy, toxic["name"])
        assert recv_exactly(sock, 12) == b"HTTP/1.1 200"


def test_answer_removed_while_a_request_body_is_arriving_still_answers_that_request(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    toxic = api.add_toxic(proxy, "http_error", attributes={"status": 500})
    with connect(proxy) as sock:
        sock.sendall(b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
        time.sleep(0.1)
        api.remove_toxic(proxy, toxic["name"])
        sock.sendall(b"cd")
        assert recv_exactly(sock, 12) == b"HTTP/1.1 500"
        recv_exactly(sock, len(b" Internal Server Error\r\nContent-Length: 0\r\n\r\n"))
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_exactly(sock, 12) == b"HTTP/1.1 200"
    assert http_server.paths() == ["/next"]
