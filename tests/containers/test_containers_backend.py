"""The containers backend on part of the reference shop (gateway -> users): what runs where,
the edge through the proxy container, and the container faults (kill, restart, pause,
disconnect), each undone before the next test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from containers_helpers import AUTH, run_objects, shop_subset

from harness import http_clients
from harness.runtime import RunningSystem, open_run, start_system
from harness.runtime.backends.containers.system import ContainerServiceHandle, ContainerSystem

pytestmark = pytest.mark.containers


@pytest.fixture(scope="module")
def system(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    home = tmp_path_factory.mktemp("home")
    topology = shop_subset(["gateway", "users"], ["gateway -> users"])
    with start_system(topology, backend="containers", home=home) as running:
        yield running
    assert run_objects(running.state.run_id) == [], "stop() left containers or the network"


@pytest.fixture
def user_id(system: RunningSystem) -> int:
    """A user created through the gateway (so through the gateway->users proxy)."""
    response = http_clients.post(
        system.url("gateway") + "/api/users",
        json={"name": "Ada", "email": f"ada-{uuid.uuid4().hex[:8]}@example.com"},
        headers=AUTH,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _get_user(system: RunningSystem, user_id: int) -> httpx.Response:
    return http_clients.get(
        f"{system.url('gateway')}/api/users/{user_id}", headers=AUTH, timeout=10
    )


def _user_comes_back(system: RunningSystem, user_id: int, *, within: float = 20.0) -> int:
    """The status of GET user once it is 200, or the last one at the deadline: connections
    cut by a fault may take the callers' timeouts and retries to be replaced."""
    deadline = time.monotonic() + within
    while True:
        status = _get_user(system, user_id).status_code
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_services_are_containers_published_on_loopback(system: RunningSystem) -> None:
    assert isinstance(system, ContainerSystem)
    assert system.state.backend == "containers"
    for name, handle in system.services.items():
        assert isinstance(handle, ContainerServiceHandle)
        assert handle.url.startswith("http://127.0.0.1:")
        assert handle.image.startswith(f"localhost/harness-{name}:")
        assert handle.log_path == system.run_dir / f"{name}.log"
        assert handle.log_path.is_file()
    assert system.health() == {"gateway": None, "users": None}
    assert (system.run_dir / "users.db").is_file(), "the databases live in the run directory"


def test_every_edge_goes_through_the_fault_proxy_container(
    system: RunningSystem, user_id: int
) -> None:
    assert isinstance(system, ContainerSystem)
    edge = system.edge("gateway->users")
    assert edge.upstream == f"{system.records.services['users'].address}:8000"
    assert edge.listen is not None
    assert edge.listen.startswith("127.0.0.1:")
    assert set(system.faults.client.proxies()) == {"gateway->users"}
    system.faults.partition("gateway->users")
    try:
        cut = _get_user(system, user_id)
        assert cut.status_code == 503
        assert cut.json()["dependency"] == "users"
    finally:
        system.faults.heal("gateway->users")
    assert _get_user(system, user_id).status_code == 200
    # the host reaches the same proxy on the edge's published port
    through_proxy = http_clients.get(f"http://{edge.listen}/users/{user_id}", timeout=10)
    assert through_proxy.status_code == 200


def test_kill_stops_the_container_and_restart_brings_back_its_data(
    system: RunningSystem, user_id: int
) -> None:
    system.kill("users")
    assert not system.is_alive("users")
    reason = system.health()["users"]
    assert reason is not None
    assert "exited" in reason
    system.restart("users", timeout=60)
    assert system.is_alive("users")
    assert system.url("users").startswith("http://127.0.0.1:")
    assert _get_user(system, user_id).json()["id"] == user_id


def test_pause_freezes_the_container_until_resumed(system: RunningSystem) -> None:
    system.pause("users")
    try:
        assert system.services["users"].paused
        assert system.health()["users"] is not None  # accepted, never answered
    finally:
        system.resume("users")
    system.wait_healthy("users", timeout=30)
    assert system.health()["users"] is None


def test_disconnect_cuts_the_container_off_the_network_until_reconnected(
    system: RunningSystem, user_id: int
) -> None:
    system.disconnect("users")
    try:
        handle = system.services["users"]
        assert isinstance(handle, ContainerServiceHandle)
        assert handle.disconnected
        cut = _get_user(system, user_id)
        assert cut.status_code == 503, "the proxy cannot reach users any more"
        assert cut.json()["dependency"] == "users"
    finally:
        system.reconnect("users")
    system.wait_healthy("users", timeout=30)
    assert _user_comes_back(system, user_id) == 200


def test_another_process_drives_the_same_containers_through_open_run(
    system: RunningSystem, user_id: int
) -> None:
    opened = open_run(system.run_dir, home=Path(system.run_dir).parents[1])
    assert isinstance(opened, ContainerSystem)
    assert opened.services["users"].url == system.url("users")
    opened.pause("users")
    try:
        assert system.health()["users"] is not None
    finally:
        opened.resume("users")
    system.wait_healthy("users", timeout=30)
    assert _get_user(system, user_id).status_code == 200


def test_restore_undoes_every_container_fault(system: RunningSystem, user_id: int) -> None:
    system.disconnect("users")
    system.kill("gateway")
    system.faults.add_toxic("gateway->users", "timeout", attributes={"timeout": 0})
    system.restore()
    assert system.health() == {"gateway": None, "users": None}
    assert system.faults.toxics("gateway->users") == []
    assert _user_comes_back(system, user_id) == 200
