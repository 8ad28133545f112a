"""http_delay: matching responses are held for latency plus up to jitter ms."""

from __future__ import annotations

import threading
import time

from harness import http_clients

from .http_upstream import HttpUpstream
from .support import SLACK, Api, embedded_only, timed

pytestmark = embedded_only


def test_matching_responses_are_delayed_and_others_are_not(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_delay", attributes={"latency": 200, "path": "^/slow"})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        client.get("/warm")
        slow, slow_s = timed(lambda: client.get("/slow"))
        fast, fast_s = timed(lambda: client.get("/fast"))
    assert slow.status_code == fast.status_code == 200
    assert 0.195 <= slow_s < SLACK
    assert fast_s < 0.15


def test_jitter_stays_within_latency_plus_jitter(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_delay", attributes={"latency": 50, "jitter": 100})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        for _ in range(5):
            _, elapsed = timed(lambda: client.get("/x"))
            assert 0.048 <= elapsed < 0.150 + 0.5


def test_chunked_response_is_delayed_whole_and_intact(api: Api, http_server: HttpUpstream) -> None:
    proxy = api.create_proxy(http_server.address)
    api.add_toxic(proxy, "http_delay", attributes={"latency": 100})
    with http_clients.client(base_url=f"http://{proxy.listen}") as client:
        response, elapsed = timed(lambda: client.get("/c?chunked=1"))
        again = client.get("/d?chunked=1")
    assert response.json() == {"method": "GET", "path": "/c?chunked=1", "body_length": 0}
    assert again.json()["path"] == "/d?chunked=1"
    assert 0.095 <= elapsed < SLACK


def test_removing_the_toxic_releases_a_response_it_holds(
    api: Api, http_server: HttpUpstream
) -> None:
    proxy = api.create_proxy(http_server.address)
    toxic = api.add_toxic(proxy, "http_delay", attributes={"latency": 20_000})
    result: list[float] = []
    with http_clients.client(base_url=f"http://{proxy.listen}", timeout=SLACK * 2) as client:

        def request() -> None:
            start = time.monotonic()
            client.get("/held")
            result.append(time.monotonic() - start)

        thread = threading.Thread(target=request)
        thread.start()
        deadline = time.monotonic() + SLACK
        while not http_server.seen and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        api.remove_toxic(proxy, toxic["name"])
        thread.join(SLACK)
        assert result
        assert result[0] < SLACK
        # The connection keeps working, now on the way without HTTP parsing.
        assert client.get("/after").status_code == 200
