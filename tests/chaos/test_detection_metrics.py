"""The shop metrics the detection experiments read: the most attempts one call made, and
each wait between two attempts of a call (target-system/README.md "Metrics")."""

from __future__ import annotations

import asyncio

import httpx
from shop.common.client import ResilientClient
from shop.common.metrics import sample_value
from shop.common.settings import ServiceSettings


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _client(service: str, clock: _Clock, answers: list[int]) -> ResilientClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(status, json={})

    return ResilientClient(
        service=service,
        dependency="users",
        base_url="http://users.test",
        settings=ServiceSettings(retry_max_attempts=3, retry_budget_min_retries=100),
        clock=clock,
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        random=lambda: 1.0,  # the full backoff ceiling: 0.05 s, then 0.1 s
    )


def _max(service: str, method: str, keyed: str) -> float:
    labels = {"service": service, "dependency": "users", "method": method, "keyed": keyed}
    return sample_value("shop_outbound_attempts_max", labels)


def test_attempts_max_keeps_the_most_attempts_of_one_call_per_keyedness() -> None:
    clock = _Clock()
    client = _client("det-max", clock, [503, 503, 200, 200])

    async def run() -> None:
        await client.get("/users/1")  # 503, 503, 200: three attempts
        await client.get("/users/1")  # one attempt: the max stays 3
        await client.post("/users", json={})  # unkeyed POST, one attempt
        await client.aclose()

    asyncio.run(run())
    assert _max("det-max", "GET", "false") == 3
    assert _max("det-max", "POST", "false") == 1
    assert _max("det-max", "GET", "true") == 0


def test_retry_wait_records_the_time_between_attempts() -> None:
    clock = _Clock()
    client = _client("det-wait", clock, [503, 503, 200])
    asyncio.run(client.get("/users/1"))
    labels = {"service": "det-wait", "dependency": "users"}
    assert sample_value("shop_outbound_retry_wait_seconds_count", labels) == 2
    total = sample_value("shop_outbound_retry_wait_seconds_sum", labels)
    assert abs(total - 0.15) < 1e-9  # 0.05 s + 0.1 s of backoff really slept
