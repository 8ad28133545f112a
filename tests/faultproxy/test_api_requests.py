"""Request counts per proxy (`/proxies/{name}/requests`, an extension of the API)."""

from __future__ import annotations

import httpx

from harness import http_clients

from .http_upstream import HttpUpstream
from .support import Api, embedded_only

pytestmark = embedded_only


def counting(api: Api, proxy: str, enabled: bool) -> httpx.Response:
    return api.http.post(f"/proxies/{proxy}/requests", json={"enabled": enabled})


def test_counts_forwarded_requests_by_method_path_and_header_value(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    assert counting(api, proxy.name, True).json()["enabled"] is True
    api.add_toxic(proxy, "http_error", attributes={"first": 1, "path": "^/payments"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        # The caller retries with the same key: the first attempt is answered by the proxy.
        for _ in range(3):
            client.post("/payments", headers={"Idempotency-Key": "k1"}, content=b"{}")
        client.post("/payments?x=1", headers={"Idempotency-Key": "k2"}, content=b"{}")
        client.get("/orders/7")
    answer = api.http.get(f"/proxies/{proxy.name}/requests", params={"header": "Idempotency-Key"})
    assert answer.status_code == 200
    assert answer.json() == {
        "enabled": True,
        "header": "Idempotency-Key",
        "total": 4,
        "kept": 4,
        "counts": [
            {"method": "GET", "path": "/orders/7", "value": None, "count": 1},
            {"method": "POST", "path": "/payments", "value": "k1", "count": 2},
            {"method": "POST", "path": "/payments", "value": "k2", "count": 1},
        ],
    }
    assert len(http_server.seen) == 4


def test_counting_alone_turns_parsing_on_and_delete_resets(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        client.get("/not-counted")
        counting(api, proxy.name, True)
        client.get("/a", headers={"X-Request-ID": "r1"})
        client.get("/a", headers={"X-Request-ID": "r1"})
        url = f"/proxies/{proxy.name}/requests"
        by_id = api.http.get(url, params={"header": "x-request-id"}).json()
        assert by_id["counts"] == [{"method": "GET", "path": "/a", "value": "r1", "count": 2}]
        assert api.http.delete(url).status_code == 204
        assert api.http.get(url).json()["total"] == 0
        counting(api, proxy.name, False)
        client.get("/off")
        client.get("/off2")
        assert api.http.get(url).json() == {
            "enabled": False,
            "header": "",
            "total": 0,
            "kept": 0,
            "counts": [],
        }


def test_bad_counting_requests(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    url = f"/proxies/{proxy.name}/requests"
    missing = api.http.post(url, json={})
    assert (missing.status_code, missing.json()["error"]) == (
        400,
        "missing required field: enabled",
    )
    wrong = api.http.post(url, json={"enabled": "yes"})
    assert wrong.status_code == 400
    assert wrong.json()["error"].endswith("Counting.enabled of type bool")
    assert api.http.get("/proxies/nope/requests").status_code == 404
