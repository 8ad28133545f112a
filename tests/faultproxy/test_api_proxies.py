"""Proxy endpoints: create, show, list, update (PATCH/POST), delete, enable and disable."""

from __future__ import annotations

import re
import socket

import pytest

from harness.runtime.ports import pick_free_ports

from .support import (
    IO_TIMEOUT,
    Api,
    ProxyInfo,
    TcpServer,
    connect,
    read_until_closed,
    recv_exactly,
    split_listen,
)


def refuses_connections(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=IO_TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False


def test_create_answers_201_with_the_bound_address_in_go_key_order(
    api: Api, echo_server: TcpServer
) -> None:
    name = api.unique_name()
    response = api.http.post(
        "/proxies", json={"name": name, "listen": "127.0.0.1:0", "upstream": echo_server.address}
    )
    api.created.append(name)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    expected = (
        rf'\{{"name":"{name}","listen":"127\.0\.0\.1:(\d+)","upstream":"{echo_server.address}",'
        r'"enabled":true,"Logger":\{\},"toxics":\[\]\}'
    )
    match = re.fullmatch(expected.encode(), response.content)
    assert match is not None, response.content
    assert int(match.group(1)) != 0


def test_created_proxy_relays_bytes_both_ways(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        sock.sendall(b"hello through the proxy")
        assert recv_exactly(sock, 23) == b"hello through the proxy"


def test_localhost_listen_binds_ipv4_loopback(api: Api) -> None:
    proxy = api.create_proxy("127.0.0.1:1", listen="localhost:0")
    assert proxy.host == "127.0.0.1"


def test_disabled_proxy_keeps_its_literal_listen_and_does_not_listen(api: Api) -> None:
    proxy = api.create_proxy("127.0.0.1:1", enabled=False)
    assert proxy.json["listen"] == "127.0.0.1:0"
    assert proxy.json["enabled"] is False


def test_upstream_is_not_checked_at_create(api: Api) -> None:
    proxy = api.create_proxy("example.invalid:80")
    assert proxy.json["upstream"] == "example.invalid:80"


def test_unknown_keys_and_toxics_in_the_create_body_are_ignored(api: Api) -> None:
    proxy = api.create_proxy(
        "127.0.0.1:1", toxics=[{"type": "latency"}], colour="blue", enabled=False
    )
    assert proxy.json["toxics"] == []


def test_show_and_index_return_the_same_object(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    shown = api.http.get(f"/proxies/{proxy.name}")
    assert shown.status_code == 200
    index = api.http.get("/proxies").json()
    assert index[proxy.name] == shown.json()


def test_index_keys_are_sorted_like_a_go_map(api: Api) -> None:
    for _ in range(3):
        api.create_proxy("127.0.0.1:1", enabled=False)
    keys = list(api.http.get("/proxies").json())
    assert keys == sorted(keys)


def test_delete_answers_204_then_404(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    assert api.http.delete(f"/proxies/{proxy.name}").status_code == 204
    again = api.http.delete(f"/proxies/{proxy.name}")
    assert again.status_code == 404
    assert again.content == b'{"error":"proxy not found","status":404}\n'
    assert refuses_connections(proxy.host, proxy.port)


def test_delete_closes_live_connections(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        sock.sendall(b"x")
        assert recv_exactly(sock, 1) == b"x"
        api.http.delete(f"/proxies/{proxy.name}")
        assert read_until_closed(sock) == (b"", "eof")


def test_disable_closes_listener_and_connections_with_a_normal_close(
    api: Api, echo_server: TcpServer
) -> None:
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        sock.sendall(b"ping")
        assert recv_exactly(sock, 4) == b"ping"
        body = api.patch_proxy(proxy, enabled=False)
        assert body["enabled"] is False
        assert body["listen"] == proxy.listen  # keeps the last bound address
        assert read_until_closed(sock) == (b"", "eof")
    assert refuses_connections(proxy.host, proxy.port)


def test_enable_listens_again_on_the_same_port(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.patch_proxy(proxy, enabled=False)
    body = api.patch_proxy(proxy, enabled=True)
    assert body["listen"] == proxy.listen
    with connect(proxy) as sock:
        sock.sendall(b"again")
        assert recv_exactly(sock, 5) == b"again"


def test_resending_the_same_enabled_state_is_a_no_op(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    with connect(proxy) as sock:
        body = api.patch_proxy(proxy, enabled=True)
        assert body["listen"] == proxy.listen
        sock.sendall(b"still")
        assert recv_exactly(sock, 5) == b"still"


def test_toxics_survive_disable(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "latency", attributes={"latency": 1})
    body = api.patch_proxy(proxy, enabled=False)
    assert [t["name"] for t in body["toxics"]] == ["latency_downstream"]


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_new_listen_restarts_the_proxy_and_keeps_toxics(
    api: Api, echo_server: TcpServer, method: str
) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "noop")
    with connect(proxy) as sock:
        response = api.http.request(
            method, f"/proxies/{proxy.name}", json={"listen": "127.0.0.1:0"}
        )
        assert response.status_code == 200
        body = response.json()
        assert read_until_closed(sock)[0] == b""  # existing connections are closed
    assert body["enabled"] is True
    assert body["listen"] != proxy.listen
    assert [t["type"] for t in body["toxics"]] == ["noop"]
    moved = ProxyInfo(proxy.name, *split_listen(body["listen"]), body)
    with connect(moved) as sock:
        sock.sendall(b"moved")
        assert recv_exactly(sock, 5) == b"moved"


def test_new_upstream_applies_to_new_connections(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy("127.0.0.1:1")
    body = api.patch_proxy(proxy, upstream=echo_server.address)
    assert body["upstream"] == echo_server.address
    with connect(ProxyInfo(proxy.name, *split_listen(body["listen"]), body)) as sock:
        sock.sendall(b"new upstream")
        assert recv_exactly(sock, 12) == b"new upstream"


def test_patch_ignores_the_name_in_the_body(api: Api) -> None:
    proxy = api.create_proxy("127.0.0.1:1", enabled=False)
    body = api.patch_proxy(proxy, name="renamed")
    assert body["name"] == proxy.name
    assert api.http.get("/proxies/renamed").status_code == 404


def test_disabled_proxy_edited_while_disabled_stays_disabled(api: Api) -> None:
    proxy = api.create_proxy("127.0.0.1:1", enabled=False)
    body = api.patch_proxy(proxy, upstream="127.0.0.1:2")
    assert body["enabled"] is False
    assert body["upstream"] == "127.0.0.1:2"


def test_unreachable_upstream_closes_each_accepted_client(api: Api) -> None:
    # reserved and never bound: a bind(0) port, closed again, could be anyone's next
    (port,) = pick_free_ports(1)
    dead = f"127.0.0.1:{port}"
    proxy = api.create_proxy(dead)
    with connect(proxy) as sock:
        data, _how = read_until_closed(sock)
        assert data == b""
