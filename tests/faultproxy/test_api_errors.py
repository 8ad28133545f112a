"""Bad API input gets the real server's status and body, byte for byte (toxiproxy-api.md)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from .support import Api, TcpServer

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str  # "{p}" is a proxy of the test, with toxic "latency_downstream"
    body: bytes | None
    status: int
    expected: bytes


def error(message: str, status: int) -> bytes:
    return f'{{"error":"{message}","status":{status}}}\n'.encode()


CASES = [
    Case(
        "create-duplicate",
        "POST",
        "/proxies",
        b'{"name":"{p}","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}',
        409,
        error("proxy already exists", 409),
    ),
    Case(
        "create-no-name",
        "POST",
        "/proxies",
        b'{"upstream":"127.0.0.1:1"}',
        400,
        error("missing required field: name", 400),
    ),
    Case(
        "create-no-upstream",
        "POST",
        "/proxies",
        b'{"name":"x-no-upstream","listen":"127.0.0.1:0"}',
        400,
        error("missing required field: upstream", 400),
    ),
    Case("create-empty-body", "POST", "/proxies", b"", 400, error("bad request body: EOF", 400)),
    Case(
        "create-truncated",
        "POST",
        "/proxies",
        b'{"name":"x",',
        400,
        error("bad request body: unexpected EOF", 400),
    ),
    Case(
        "create-wrong-type",
        "POST",
        "/proxies",
        b'{"name":"x","upstream":"y","enabled":"yes"}',
        400,
        error(
            "bad request body: json: cannot unmarshal string into Go struct field "
            "Proxy.enabled of type bool",
            400,
        ),
    ),
    Case(
        "create-bad-listen",
        "POST",
        "/proxies",
        b'{"name":"x-bad-listen","listen":"not-an-addr","upstream":"127.0.0.1:1"}',
        500,
        error("listen tcp: address not-an-addr: missing port in address", 500),
    ),
    Case(
        "show-unknown-proxy",
        "GET",
        "/proxies/no-such-proxy",
        None,
        404,
        error("proxy not found", 404),
    ),
    Case(
        "update-bad-body",
        "PATCH",
        "/proxies/{p}",
        b"{b",
        400,
        error(
            "bad request body: invalid character 'b' looking for beginning of object key string",
            400,
        ),
    ),
    Case(
        "update-unknown-proxy",
        "PATCH",
        "/proxies/no-such-proxy",
        b"{}",
        404,
        error("proxy not found", 404),
    ),
    Case(
        "toxic-unknown-type",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"nope"}',
        400,
        error("invalid toxic type", 400),
    ),
    Case(
        "toxic-empty-object",
        "POST",
        "/proxies/{p}/toxics",
        b"{}",
        400,
        error("invalid toxic type", 400),
    ),
    Case(
        "toxic-bad-stream",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"latency","stream":"sideways"}',
        400,
        error("stream was invalid, can be either upstream or downstream", 400),
    ),
    Case(
        "toxic-bad-stream-checked-before-type",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"nope","stream":"sideways"}',
        400,
        error("stream was invalid, can be either upstream or downstream", 400),
    ),
    Case(
        "toxic-duplicate-name",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"latency"}',
        409,
        error("toxic already exists", 409),
    ),
    Case(
        "toxic-duplicate-name-across-streams",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"noop","name":"latency_downstream","stream":"upstream"}',
        409,
        error("toxic already exists", 409),
    ),
    Case(
        "toxic-malformed-json",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"latency"',
        400,
        error("bad request body: unexpected EOF", 400),
    ),
    Case(
        "toxic-wrong-attribute-type",
        "POST",
        "/proxies/{p}/toxics",
        b'{"type":"latency","name":"l2","attributes":{"latency":"100"}}',
        400,
        error(
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
            400,
        ),
    ),
    Case(
        "toxic-unknown-proxy",
        "POST",
        "/proxies/no-such-proxy/toxics",
        b'{"type":"latency"}',
        404,
        error("proxy not found", 404),
    ),
    Case(
        "toxic-show-unknown",
        "GET",
        "/proxies/{p}/toxics/nope",
        None,
        404,
        error("toxic not found", 404),
    ),
    Case(
        "toxic-update-unknown",
        "PATCH",
        "/proxies/{p}/toxics/nope",
        b"{}",
        404,
        error("toxic not found", 404),
    ),
    Case(
        "toxic-delete-unknown",
        "DELETE",
        "/proxies/{p}/toxics/nope",
        None,
        404,
        error("toxic not found", 404),
    ),
    Case(
        "toxic-list-unknown-proxy",
        "GET",
        "/proxies/no-such-proxy/toxics",
        None,
        404,
        error("proxy not found", 404),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_the_real_servers_error(api: Api, case: Case) -> None:
    proxy = api.create_proxy("127.0.0.1:1", enabled=False)
    api.add_toxic(proxy, "latency")
    body = None if case.body is None else case.body.replace(b"{p}", proxy.name.encode())
    response = api.http.request(case.method, case.path.replace("{p}", proxy.name), content=body)
    if case.status == 201:  # pragma: no cover - a failed case created a proxy: clean it up
        api.created.append(response.json()["name"])
    assert (response.status_code, response.content) == (case.status, case.expected)
    assert response.headers["content-type"] == TEXT
    assert response.headers["x-content-type-options"] == "nosniff"


def test_listen_port_in_use_is_a_500_and_creates_nothing(api: Api) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        name = api.unique_name()
        response = api.http.post(
            "/proxies",
            json={"name": name, "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:1"},
        )
    assert response.status_code == 500
    assert response.content == error(
        f"listen tcp 127.0.0.1:{port}: bind: address already in use", 500
    )
    assert api.http.get(f"/proxies/{name}").status_code == 404


def test_update_toxic_with_bad_body_is_a_400(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency")
    response = api.http.patch(
        f"/proxies/{proxy.name}/toxics/latency_downstream", content=b'{"toxicity":'
    )
    assert response.status_code == 400
    assert response.content == error("bad request body: unexpected EOF", 400)


def test_populate_validation_error_is_json_with_null_proxies(api: Api) -> None:
    response = api.http.post("/populate", content=b'[{"name":"p3","listen":"127.0.0.1:0"}]')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.content == (
        b'{"error":"missing required field: upstream at proxy 1","status":400,"proxies":null}'
    )


def test_populate_rejects_a_non_array_body(api: Api) -> None:
    response = api.http.post("/populate", content=b'{"name":"x"}')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == 400
    assert body["proxies"] is None
    assert body["error"].startswith(
        "bad request body: json: cannot unmarshal object into Go value of type []struct {"
    )
