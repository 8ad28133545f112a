"""HTTP conventions of the API: headers, bodies and status codes outside any one endpoint."""

from __future__ import annotations

import re
import socket

import pytest

from .support import IO_TIMEOUT, Api, split_listen

XID = re.compile(r"[0-9a-v]{20}")


def raw_exchange(url: str, request: bytes) -> bytes:
    """Send raw bytes to the API and read until it closes the connection."""
    host, port = split_listen(url.removeprefix("http://"))
    with socket.create_connection((host, port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(request)
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


def test_version_body_is_go_formatted_with_charset(api: Api) -> None:
    response = api.http.get("/version")
    assert response.status_code == 200
    assert re.fullmatch(rb'\{"version": "\d+\.\d+\.\d+"\}\n', response.content)
    assert response.headers["content-type"] == "application/json;charset=utf-8"


def test_routed_responses_carry_an_xid_request_id(api: Api) -> None:
    first = api.http.get("/proxies").headers["x-toxiproxy-request-id"]
    second = api.http.get("/proxies").headers["x-toxiproxy-request-id"]
    assert XID.fullmatch(first)
    assert XID.fullmatch(second)
    assert first != second


def test_success_bodies_are_compact_json_without_newline(api: Api) -> None:
    response = api.http.get("/proxies")
    assert response.headers["content-type"] == "application/json"
    assert not response.content.endswith(b"\n")


@pytest.mark.parametrize("path", ["/nope", "/proxies/", "/proxies/x/toxics/", "/version/"])
def test_unknown_path_is_a_plain_404_without_request_id(api: Api, path: str) -> None:
    response = api.http.get(path)
    assert response.status_code == 404
    assert response.content == b"404 page not found\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-toxiproxy-request-id" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/proxies/t"), ("DELETE", "/proxies"), ("GET", "/reset"), ("POST", "/version")],
)
def test_known_path_with_wrong_method_is_an_empty_405(api: Api, method: str, path: str) -> None:
    response = api.http.request(method, path)
    assert response.status_code == 405
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "x-toxiproxy-request-id" not in response.headers


def test_browser_user_agent_is_forbidden(api: Api) -> None:
    response = api.http.get("/proxies", headers={"User-Agent": "Mozilla/5.0 (X11)"})
    assert response.status_code == 403
    assert response.content == b"User agent not allowed\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert XID.fullmatch(response.headers["x-toxiproxy-request-id"])


def test_error_bodies_go_through_go_http_error(api: Api) -> None:
    response = api.http.get("/proxies/does-not-exist")
    assert response.status_code == 404
    assert response.content == b'{"error":"proxy not found","status":404}\n'
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_no_content_responses_have_neither_body_nor_type(api: Api) -> None:
    response = api.http.post("/reset")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


def test_unclean_paths_are_redirected_to_the_clean_path(toxiproxy_url: str) -> None:
    reply = raw_exchange(
        toxiproxy_url,
        b"GET /proxies/../version?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    head = reply.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")
    assert b"\r\nLocation: /version?x=1\r\n" in head


def test_keep_alive_serves_several_requests_on_one_connection(toxiproxy_url: str) -> None:
    request = b"GET /version HTTP/1.1\r\nHost: t\r\n\r\n"
    last = b"GET /version HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    reply = raw_exchange(toxiproxy_url, request + request + last)
    assert reply.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert reply.endswith(b'"}\n')


def test_request_without_host_header_is_refused_like_go(toxiproxy_url: str) -> None:
    reply = raw_exchange(toxiproxy_url, b"GET /version HTTP/1.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"Connection: close" in reply


def test_large_bodies_are_sent_chunked(api: Api) -> None:
    # Go switches to chunked encoding for bodies over its 2 KiB buffer.
    for _ in range(12):
        api.create_proxy("127.0.0.1:1", enabled=False)
    response = api.http.get("/proxies")
    assert len(response.content) > 2048
    assert response.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.headers
