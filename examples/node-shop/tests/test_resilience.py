"""node-shop under faults, through the harness's runtime and fault proxy: what the chaos
experiments in ../chaos expect, checked directly (real Node.js processes on loopback).

Breaker states are read from each caller's /metrics through the topology's breaker
convention (metric, labels, state values), so these tests also prove that the declaration
in system.toml matches what the services expose.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from harness.observe.metrics import scrape
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
TOPOLOGY = load_topology(EXAMPLE_DIR / "system.toml")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    if not (EXAMPLE_DIR / "node_modules").is_dir():
        pytest.fail(f"run `npm ci` in {EXAMPLE_DIR} first (node_modules is missing)")
    # A short open time, so each test's breaker closes again quickly after the heal.
    topology = TOPOLOGY.with_env({"BREAKER_RESET_MS": 1000})
    with start_system(topology, home=tmp_path_factory.mktemp("home")) as running:
        yield running


@pytest.fixture
def gateway(system: RunningSystem) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=system.url("gateway"), timeout=10) as client:
        yield client
    system.faults.reset()
    for caller, upstream in (("orders", "users"), ("gateway", "users"), ("gateway", "orders")):
        wait_for(
            lambda c=caller, u=upstream: breaker(system, c, u) == "closed",
            nudge=client_nudge(system),
        )


def client_nudge(system: RunningSystem) -> Callable[[], None]:
    """A call through every edge, so a half-open breaker gets its trial call."""

    def nudge() -> None:
        with httpx.Client(base_url=system.url("gateway"), timeout=10) as client:
            client.get("/api/users/1")
            client.post("/api/orders", json={"user_id": 1, "items": [{"sku": "A", "quantity": 1}]})

    return nudge


def breaker(system: RunningSystem, caller: str, upstream: str) -> str | None:
    """The state of `caller`'s breaker towards `upstream`, as the breaker convention reads it."""
    convention = TOPOLOGY.conventions_for(caller).breaker
    assert convention is not None, "system.toml declares [conventions.breaker]"
    labels = {k: v.format(source=caller, target=upstream) for k, v in convention.labels.items()}
    value = scrape(f"{system.url(caller)}/metrics").value(convention.metric, **labels)
    names = {number: state for state, number in convention.states.items()}
    return None if value is None else names.get(value, f"unknown value {value}")


def transitions(system: RunningSystem, caller: str, upstream: str, old: str, new: str) -> float:
    convention = TOPOLOGY.conventions_for(caller).breaker
    assert convention is not None
    assert convention.transitions is not None
    labels = {k: v.format(source=caller, target=upstream) for k, v in convention.labels.items()}
    before, after = convention.transition_labels
    value = scrape(f"{system.url(caller)}/metrics").value(
        convention.transitions, **labels, **{before: old, after: new}
    )
    return value or 0.0


def wait_for(
    condition: Callable[[], bool], *, timeout: float = 15, nudge: Callable[[], None] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {condition}")
        if nudge is not None:
            nudge()
        time.sleep(0.2)


def new_user(gateway: httpx.Client) -> int:
    answer = gateway.post("/api/users", json={"name": "Ada", "email": "ada@example.test"})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def place_order(gateway: httpx.Client, user_id: int) -> httpx.Response:
    return gateway.post(
        "/api/orders", json={"user_id": user_id, "items": [{"sku": "SKU-1", "quantity": 1}]}
    )


def test_latency_behind_orders_opens_orders_breaker_and_not_the_gateways(
    system: RunningSystem, gateway: httpx.Client
) -> None:
    user_id = new_user(gateway)
    assert place_order(gateway, user_id).status_code == 201
    system.faults.add_toxic("orders->users", "latency", attributes={"latency": 1500})

    with ThreadPoolExecutor(4) as pool:  # enough failed calls for the breaker to judge
        slow = list(pool.map(lambda _: place_order(gateway, user_id), range(8)))
    assert {answer.status_code for answer in slow} == {503}
    assert breaker(system, "orders", "users") == "open"

    started = time.monotonic()
    refused = place_order(gateway, user_id)
    assert refused.status_code == 503
    assert refused.json()["error"] == "dependency_unavailable"
    assert time.monotonic() - started < 0.3, "an open breaker answers at once"
    # orders' 503 names its own dependency: the gateway relays it, its breaker stays closed
    assert breaker(system, "gateway", "orders") == "closed"
    assert gateway.get(f"/api/users/{user_id}").status_code == 200
    retries = scrape(f"{system.url('orders')}/metrics").value(
        "upstream_retries_total", upstream="users"
    )
    assert retries is not None
    assert retries >= 8

    system.faults.reset()
    wait_for(lambda: place_order(gateway, user_id).status_code == 201)
    assert breaker(system, "orders", "users") == "closed"
    # the whole cycle shows in the transitions counter, even a half-open state too short to scrape
    for old, new in (("closed", "open"), ("open", "half_open"), ("half_open", "closed")):
        assert transitions(system, "orders", "users", old, new) >= 1, f"{old} -> {new}"


def test_partitioned_gateway_users_fails_fast_while_orders_flow(
    system: RunningSystem, gateway: httpx.Client
) -> None:
    user_id = new_user(gateway)
    system.faults.partition("gateway->users")

    answers = [gateway.get(f"/api/users/{user_id}") for _ in range(8)]
    assert {answer.status_code for answer in answers} == {503}
    assert breaker(system, "gateway", "users") == "open"
    started = time.monotonic()
    assert gateway.get(f"/api/users/{user_id}").status_code == 503
    assert time.monotonic() - started < 0.25
    # the same user, reached by orders over orders->users, which is not cut
    assert place_order(gateway, user_id).status_code == 201

    system.faults.heal("gateway->users")
    wait_for(lambda: gateway.get(f"/api/users/{user_id}").status_code == 200)
    assert breaker(system, "gateway", "users") == "closed"


def test_a_created_order_is_not_retried_so_it_is_never_duplicated(
    system: RunningSystem, gateway: httpx.Client
) -> None:
    user_id = new_user(gateway)
    # the answer to the gateway is lost after orders has created the order
    system.faults.add_toxic("gateway->orders", "latency", attributes={"latency": 3000})
    answer = place_order(gateway, user_id)
    assert answer.status_code == 503  # the gateway's 2.5 s timeout
    system.faults.reset()
    retries = scrape(f"{system.url('gateway')}/metrics").value(
        "upstream_retries_total", upstream="orders"
    )
    assert retries == 0, "a POST that creates must not be retried"
