"""harness.faults without a fault proxy: edge names, configuration and unreachable servers."""

from __future__ import annotations

import pytest

from harness.faults import (
    FaultInjector,
    FaultProxyError,
    FaultProxyUnavailable,
    FaultRejected,
    ToxiproxyClient,
    UnknownEdgeError,
    toxiproxy_url_from_env,
)
from harness.runtime.ports import pick_free_ports


def closed_port_url() -> str:
    (port,) = pick_free_ports(1)
    return f"http://127.0.0.1:{port}"


def test_edges_are_found_with_or_without_spaces_around_the_arrow() -> None:
    faults = FaultInjector(None, {"orders->payments": "orders->payments"})
    assert faults.proxy_name("orders -> payments") == "orders->payments"
    assert faults.proxy_name(" orders->payments ") == "orders->payments"


def test_an_unknown_edge_is_named_with_the_known_ones() -> None:
    faults = FaultInjector(None, {"a->b": "a->b", "a->c": "a->c"})
    with pytest.raises(UnknownEdgeError, match=r"unknown edge 'b->a'; edges are: a->b, a->c"):
        faults.partition("b->a")


def test_without_a_proxy_every_fault_says_why() -> None:
    faults = FaultInjector(None, {"a->b": "a->b"}, unavailable_reason="attach without proxies")
    with pytest.raises(FaultProxyUnavailable, match="attach without proxies"):
        faults.add_toxic("a->b", "latency", attributes={"latency": 10})
    faults.reset()  # nothing can have been injected, so nothing to undo


def test_an_unreachable_server_is_reported_with_its_address() -> None:
    url = closed_port_url()
    faults = FaultInjector(ToxiproxyClient(url, timeout=1.0), {"a->b": "a->b"})
    with pytest.raises(FaultProxyUnavailable, match=rf"partition|disable.*{url}"):
        faults.partition("a->b")
    assert not ToxiproxyClient(url).is_up()


def test_a_bad_stream_is_rejected_before_any_request() -> None:
    faults = FaultInjector(ToxiproxyClient(closed_port_url()), {"a->b": "a->b"})
    with pytest.raises(FaultRejected, match="stream must be"):
        faults.add_toxic("a->b", "latency", stream="sideways")


@pytest.mark.parametrize("url", ["https://127.0.0.1:8474", "http://127.0.0.1", "nonsense:"])
def test_a_fault_proxy_url_must_be_plain_http_with_a_port(url: str) -> None:
    with pytest.raises(FaultProxyError, match="HOST:PORT"):
        ToxiproxyClient(url)


def test_a_url_without_scheme_is_accepted() -> None:
    assert ToxiproxyClient("127.0.0.1:8474").url == "http://127.0.0.1:8474"


def test_toxiproxy_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOXIPROXY_URL", " http://127.0.0.1:8474 ")
    assert toxiproxy_url_from_env() == "http://127.0.0.1:8474"
    monkeypatch.setenv("TOXIPROXY_URL", "")
    assert toxiproxy_url_from_env() is None
