"""/populate and /reset."""

from __future__ import annotations

import socket
from typing import Any

from .support import Api, ProxyInfo, TcpServer, connect, recv_exactly, split_listen


def populate(api: Api, entries: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    for entry in entries:
        api.created.append(entry["name"])
    response = api.http.post("/populate", json=entries)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


def test_populate_creates_and_starts_proxies(api: Api, echo_server: TcpServer) -> None:
    names = [api.unique_name(), api.unique_name()]
    status, body = populate(
        api,
        [
            {"name": names[0], "listen": "127.0.0.1:0", "upstream": echo_server.address},
            {
                "name": names[1],
                "listen": "127.0.0.1:0",
                "upstream": echo_server.address,
                "enabled": False,
            },
        ],
    )
    assert status == 201
    first, second = body["proxies"]
    assert (first["name"], first["enabled"]) == (names[0], True)
    assert (second["enabled"], second["listen"]) == (False, "127.0.0.1:0")
    with connect(ProxyInfo(names[0], *split_listen(first["listen"]), first)) as sock:
        sock.sendall(b"populated")
        assert recv_exactly(sock, 9) == b"populated"


def test_populate_with_an_empty_array_answers_null_proxies(api: Api) -> None:
    response = api.http.post("/populate", content=b"[]")
    assert response.status_code == 201
    assert response.content == b'{"proxies":null}'


def test_populate_validates_the_whole_array_before_creating(api: Api) -> None:
    good, bad = api.unique_name(), api.unique_name()
    status, body = populate(
        api,
        [
            {"name": good, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},
            {"name": bad, "listen": "127.0.0.1:0"},
        ],
    )
    assert (status, body["error"]) == (400, "missing required field: upstream at proxy 2")
    assert api.http.get(f"/proxies/{good}").status_code == 404


def test_populate_keeps_earlier_proxies_when_a_later_listen_fails(api: Api) -> None:
    first, second = api.unique_name(), api.unique_name()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        status, body = populate(
            api,
            [
                {"name": first, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},
                {"name": second, "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:1"},
            ],
        )
    assert status == 500
    assert body["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert [p["name"] for p in body["proxies"]] == [first]
    assert api.http.get(f"/proxies/{first}").status_code == 200
    assert api.http.get(f"/proxies/{second}").status_code == 404


def test_populate_keeps_an_identical_proxy_untouched(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy(echo_server.address)
    api.add_toxic(proxy, "noop")
    status, body = populate(
        api, [{"name": proxy.name, "listen": proxy.listen, "upstream": echo_server.address}]
    )
    assert status == 201
    if api.http.get("/version").json()["version"] == "2.8.0":
        # 2.8.0 reports a fresh, unstarted object for the kept proxy (fixed in 2.12).
        (reported,) = body["proxies"]
        assert (reported["enabled"], reported["toxics"]) == (False, [])
    current = api.http.get(f"/proxies/{proxy.name}").json()
    assert current["enabled"] is True
    assert current["listen"] == proxy.listen
    assert [t["type"] for t in current["toxics"]] == ["noop"]


def test_populate_replaces_a_proxy_whose_upstream_differs(api: Api, echo_server: TcpServer) -> None:
    proxy = api.create_proxy("127.0.0.1:1")
    api.add_toxic(proxy, "noop")
    status, body = populate(
        api, [{"name": proxy.name, "listen": "127.0.0.1:0", "upstream": echo_server.address}]
    )
    assert status == 201
    (replaced,) = body["proxies"]
    assert replaced["upstream"] == echo_server.address
    assert replaced["toxics"] == []
    assert replaced["enabled"] is True


def test_reset_enables_every_proxy_and_removes_every_toxic(
    api: Api, echo_server: TcpServer
) -> None:
    running = api.create_proxy(echo_server.address)
    api.add_toxic(running, "latency", attributes={"latency": 10})
    api.add_toxic(running, "noop", stream="upstream")
    never_started = api.create_proxy(echo_server.address, enabled=False)
    response = api.http.post("/reset")
    assert response.status_code == 204
    after = api.http.get(f"/proxies/{running.name}").json()
    assert after["toxics"] == []
    assert after["enabled"] is True
    started = api.http.get(f"/proxies/{never_started.name}").json()
    assert started["enabled"] is True
    assert started["listen"] != "127.0.0.1:0"
    with connect(ProxyInfo(started["name"], *split_listen(started["listen"]), started)) as sock:
        sock.sendall(b"reset")
        assert recv_exactly(sock, 5) == b"reset"
