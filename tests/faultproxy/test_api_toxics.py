"""Toxic endpoints: defaults, JSON shape, ordering, PATCH merge, delete."""

from __future__ import annotations

import pytest

from .support import Api, ProxyInfo


@pytest.fixture
def proxy(api: Api) -> ProxyInfo:
    return api.create_proxy("127.0.0.1:1", enabled=False)


def test_create_answers_200_with_defaults_in_go_key_order(api: Api, proxy: ProxyInfo) -> None:
    response = api.http.post(f"/proxies/{proxy.name}/toxics", json={"type": "latency"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (
        b'{"attributes":{"latency":0,"jitter":0},"name":"latency_downstream",'
        b'"type":"latency","stream":"downstream","toxicity":1}'
    )


@pytest.mark.parametrize(
    ("toxic_type", "attributes"),
    [
        ("latency", b'{"latency":0,"jitter":0}'),
        ("bandwidth", b'{"rate":0}'),
        ("slow_close", b'{"delay":0}'),
        ("timeout", b'{"timeout":0}'),
        ("reset_peer", b'{"timeout":0}'),
        ("slicer", b'{"average_size":0,"size_variation":0,"delay":0}'),
        ("limit_data", b'{"bytes":0}'),
        ("noop", b"{}"),
    ],
)
def test_every_toxic_type_is_registered_with_zero_attributes(
    api: Api, proxy: ProxyInfo, toxic_type: str, attributes: bytes
) -> None:
    response = api.http.post(f"/proxies/{proxy.name}/toxics", json={"type": toxic_type})
    assert response.status_code == 200
    assert response.content.startswith(b'{"attributes":' + attributes + b',"name":')


def test_stream_is_case_insensitive_and_echoed_as_sent(api: Api, proxy: ProxyInfo) -> None:
    toxic = api.add_toxic(proxy, "latency", stream="UPSTREAM")
    assert toxic["name"] == "latency_UPSTREAM"
    assert toxic["stream"] == "UPSTREAM"


def test_toxics_list_upstream_first_then_downstream_in_insertion_order(
    api: Api, proxy: ProxyInfo
) -> None:
    api.add_toxic(proxy, "latency", name="d1")
    api.add_toxic(proxy, "latency", name="u1", stream="upstream")
    api.add_toxic(proxy, "noop", name="d2")
    api.add_toxic(proxy, "noop", name="u2", stream="upstream")
    listed = api.http.get(f"/proxies/{proxy.name}/toxics").json()
    assert [t["name"] for t in listed] == ["u1", "u2", "d1", "d2"]
    shown = api.http.get(f"/proxies/{proxy.name}").json()["toxics"]
    assert shown == listed


def test_toxic_list_is_an_empty_array_when_there_are_none(api: Api, proxy: ProxyInfo) -> None:
    response = api.http.get(f"/proxies/{proxy.name}/toxics")
    assert response.content == b"[]"


def test_toxicity_prints_as_a_float32(api: Api, proxy: ProxyInfo) -> None:
    assert api.add_toxic(proxy, "noop", name="a", toxicity=0.5)["toxicity"] == 0.5
    response = api.http.post(
        f"/proxies/{proxy.name}/toxics", json={"type": "noop", "name": "b", "toxicity": 0.1}
    )
    assert response.content.endswith(b'"toxicity":0.1}')


def test_there_is_no_range_validation(api: Api, proxy: ProxyInfo) -> None:
    toxic = api.add_toxic(proxy, "latency", toxicity=5, attributes={"latency": -5})
    assert toxic["toxicity"] == 5
    assert toxic["attributes"]["latency"] == -5


def test_unknown_attributes_are_ignored(api: Api, proxy: ProxyInfo) -> None:
    toxic = api.add_toxic(proxy, "latency", attributes={"latency": 7, "colour": "red"})
    assert toxic["attributes"] == {"latency": 7, "jitter": 0}


def test_show_returns_the_toxic(api: Api, proxy: ProxyInfo) -> None:
    created = api.add_toxic(proxy, "bandwidth", attributes={"rate": 10})
    shown = api.http.get(f"/proxies/{proxy.name}/toxics/bandwidth_downstream")
    assert shown.status_code == 200
    assert shown.json() == created


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_merges_attributes_and_keeps_toxicity(
    api: Api, proxy: ProxyInfo, method: str
) -> None:
    api.add_toxic(proxy, "latency", toxicity=0.5, attributes={"latency": 50, "jitter": 10})
    response = api.http.request(
        method,
        f"/proxies/{proxy.name}/toxics/latency_downstream",
        json={"attributes": {"latency": 20}},
    )
    assert response.status_code == 200
    assert response.content == (
        b'{"attributes":{"latency":20,"jitter":10},"name":"latency_downstream",'
        b'"type":"latency","stream":"downstream","toxicity":0.5}'
    )


def test_update_ignores_type_stream_and_name(api: Api, proxy: ProxyInfo) -> None:
    api.add_toxic(proxy, "latency")
    response = api.http.patch(
        f"/proxies/{proxy.name}/toxics/latency_downstream",
        json={"type": "noop", "stream": "upstream", "name": "other", "toxicity": 0.25},
    )
    toxic = response.json()
    assert (toxic["type"], toxic["stream"], toxic["name"]) == (
        "latency",
        "downstream",
        "latency_downstream",
    )
    assert toxic["toxicity"] == 0.25


def test_delete_answers_204_and_the_toxic_is_gone(api: Api, proxy: ProxyInfo) -> None:
    api.add_toxic(proxy, "timeout")
    api.remove_toxic(proxy, "timeout_downstream")
    assert api.http.get(f"/proxies/{proxy.name}/toxics/timeout_downstream").status_code == 404
    assert api.http.get(f"/proxies/{proxy.name}/toxics").json() == []
