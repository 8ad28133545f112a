"""The toxiproxy-python client drives the server end to end."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound, ProxyExists

from .support import (
    Api,
    ProxyInfo,
    TcpServer,
    connect,
    read_until_closed,
    recv_exactly,
    split_listen,
)


@pytest.fixture
def client(api: Api) -> Iterator[Toxiproxy]:
    # APIConsumer keeps the server's address in class attributes: point them here, then back.
    saved = (APIConsumer.host, APIConsumer.port)
    url = urlsplit(api.url)
    APIConsumer.host, APIConsumer.port = url.hostname, url.port
    try:
        yield Toxiproxy()
    finally:
        APIConsumer.host, APIConsumer.port = saved


def as_info(proxy: object) -> ProxyInfo:
    listen = proxy.listen  # type: ignore[attr-defined]
    return ProxyInfo(proxy.name, *split_listen(listen), {})  # type: ignore[attr-defined]


def test_client_sees_a_running_server_and_its_version(client: Toxiproxy) -> None:
    assert client.running()
    assert client.version().startswith(b'{"version": ')


def test_client_creates_lists_and_destroys_proxies(
    client: Toxiproxy, api: Api, echo_server: TcpServer
) -> None:
    name = api.unique_name()
    api.created.append(name)
    proxy = client.create(upstream=echo_server.address, name=name)
    assert proxy.enabled is True
    assert name in client.proxies()
    with pytest.raises(ProxyExists):
        client.create(upstream=echo_server.address, name=name)
    with connect(as_info(proxy)) as sock:
        sock.sendall(b"via client")
        assert recv_exactly(sock, 10) == b"via client"
    assert client.destroy(proxy) is True
    assert client.get_proxy(name) is None


def test_client_adds_lists_and_removes_toxics(
    client: Toxiproxy, api: Api, echo_server: TcpServer
) -> None:
    name = api.unique_name()
    api.created.append(name)
    proxy = client.create(upstream=echo_server.address, name=name)
    proxy.add_toxic(type="latency", attributes={"latency": 50, "jitter": 5})
    proxy.add_toxic(type="timeout", stream="upstream", name="cut", toxicity=0.5)
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "cut"}
    assert toxics["latency_downstream"].attributes == {"latency": 50, "jitter": 5}
    assert toxics["cut"].toxicity == 0.5
    assert proxy.destroy_toxic("cut") is True
    assert set(proxy.toxics()) == {"latency_downstream"}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("cut")


def test_client_disables_and_enables_a_proxy(
    client: Toxiproxy, api: Api, echo_server: TcpServer
) -> None:
    name = api.unique_name()
    api.created.append(name)
    proxy = client.create(upstream=echo_server.address, name=name)
    with connect(as_info(proxy)) as sock:
        with proxy.down():
            assert client.get_proxy(name).enabled is False
            assert read_until_closed(sock) == (b"", "eof")
        assert client.get_proxy(name).enabled is True
    with connect(as_info(proxy)) as sock:
        sock.sendall(b"up again")
        assert recv_exactly(sock, 8) == b"up again"


def test_client_reset_removes_toxics_and_enables_proxies(
    client: Toxiproxy, api: Api, echo_server: TcpServer
) -> None:
    name = api.unique_name()
    api.created.append(name)
    proxy = client.create(upstream=echo_server.address, name=name)
    proxy.add_toxic(type="bandwidth", attributes={"rate": 1})
    proxy.disable()
    assert client.reset() is True
    after = client.get_proxy(name)
    assert after.enabled is True
    assert after.toxics() == {}
