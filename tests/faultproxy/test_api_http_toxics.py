"""The API side of the HTTP toxics: shapes, order, and 400s that name the bad attribute."""

from __future__ import annotations

from typing import Any

import pytest

from .http_upstream import HttpUpstream
from .support import Api, embedded_only

pytestmark = embedded_only


def post_toxic(api: Api, proxy: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = api.http.post(f"/proxies/{proxy}/toxics", json=body)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        (
            {"path": "(unclosed"},
            "bad request body: attribute path: invalid regular expression: "
            "missing ), unterminated subpattern at position 0",
        ),
        (
            {"method": "GET POST"},
            "bad request body: attribute method: 'GET POST' is not an HTTP method",
        ),
        (
            {"first": -1},
            "bad request body: attribute first: must be 0 (every request) or more, got -1",
        ),
        (
            {"status": 99},
            "bad request body: attribute status: must be a final status, 200 to 599, got 99",
        ),
        (
            {"status": "500"},
            "bad request body: json: cannot unmarshal string into Go struct field "
            "HttpErrorToxic.attributes.status of type int64",
        ),
        (
            {"headers": ["X-A"]},
            "bad request body: json: cannot unmarshal array into Go struct field "
            "HttpErrorToxic.attributes.headers of type map[string]string",
        ),
        (
            {"headers": {"X-A": 1}},
            "bad request body: json: cannot unmarshal number into Go struct field "
            "HttpErrorToxic.attributes.headers of type string",
        ),
        (
            {"headers": {"Content-Length": "3"}},
            "bad request body: attribute headers: Content-Length is set by the proxy",
        ),
        (
            {"body": 5},
            "bad request body: json: cannot unmarshal number into Go struct field "
            "HttpErrorToxic.attributes.body of type string",
        ),
    ],
)
def test_bad_http_error_attributes_get_400_naming_the_attribute(
    api: Api, http_server: HttpUpstream, attributes: dict[str, Any], error: str
) -> None:
    proxy = api.create_proxy(http_server.address)
    status, body = post_toxic(api, proxy.name, {"type": "http_error", "attributes": attributes})
    assert (status, body) == (400, {"error": error, "status": 400})
    assert api.http.get(f"/proxies/{proxy.name}/toxics").json() == []


def test_negative_delay_is_refused(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    status, body = post_toxic(api, proxy.name, {"type": "http_delay", "attributes": {"jitter": -5}})
    assert status == 400
    assert body["error"] == "bad request body: attribute jitter: must be 0 or more ms, got -5"


def test_bad_update_leaves_the_toxic_as_it_was(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error", name="e", attributes={"path": "^/a"})
    response = api.http.patch(f"/proxies/{proxy.name}/toxics/e", json={"attributes": {"path": "["}})
    assert response.status_code == 400
    assert "attribute path" in response.json()["error"]
    shown = api.http.get(f"/proxies/{proxy.name}/toxics/e").json()
    assert shown["attributes"]["path"] == "^/a"


def test_update_merges_attributes_and_keeps_toxicity(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_delay", name="d", toxicity=0.5, attributes={"latency": 10})
    response = api.http.patch(
        f"/proxies/{proxy.name}/toxics/d", json={"attributes": {"jitter": 5, "method": "GET"}}
    )
    assert response.status_code == 200
    assert response.json() == {
        "attributes": {"method": "GET", "path": "", "first": 0, "latency": 10, "jitter": 5},
        "name": "d",
        "type": "http_delay",
        "stream": "downstream",
        "toxicity": 0.5,
    }


def test_http_toxics_are_listed_with_the_others_by_stream_then_creation(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "latency", name="down1")
    api.add_toxic(proxy, "http_drop", name="down2")
    api.add_toxic(proxy, "http_error", name="up1", stream="upstream")
    api.add_toxic(proxy, "latency", name="down3")
    names = [t["name"] for t in api.http.get(f"/proxies/{proxy.name}/toxics").json()]
    assert names == ["up1", "down1", "down2", "down3"]
    assert (
        api.http.post(
            f"/proxies/{proxy.name}/toxics", json={"type": "http_drop", "name": "down1"}
        ).status_code
        == 409
    )


def test_reset_removes_http_toxics(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_error")
    assert api.http.post("/reset").status_code == 204
    assert api.http.get(f"/proxies/{proxy.name}/toxics").json() == []
