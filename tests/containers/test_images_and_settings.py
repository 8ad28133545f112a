"""What the containers backend decides before it talks to any engine: the images' commands
and dependencies, and the engine settings it applies (no engine needed)."""

from __future__ import annotations

import importlib.metadata as metadata
import os
from pathlib import Path

import pytest
from containers_helpers import REFERENCE, shop_subset

from harness.runtime.backends.containers.engine import ENGINE_ENV_FILE, configure_environment
from harness.runtime.backends.containers.images import (
    FAULT_PROXY_API_PORT,
    SERVICE_PORT,
    plan_images,
)
from harness.runtime.backends.containers.pydeps import pinned_closure
from harness.runtime.errors import HarnessRuntimeError
from harness.topology import load_topology, parse_topology

pytestmark = pytest.mark.containers


def test_dependencies_are_pinned_to_the_versions_installed_here() -> None:
    pins = pinned_closure(["httpx"])
    assert f"httpx=={metadata.version('httpx')}" in pins
    assert f"httpcore=={metadata.version('httpcore')}" in pins, "transitive ones too"
    assert all("==" in pin for pin in pins)


def test_extras_bring_their_own_dependencies() -> None:
    plain = pinned_closure(["uvicorn"])
    standard = pinned_closure(["uvicorn[standard]"])
    assert f"uvloop=={metadata.version('uvloop')}" in standard
    assert not any(pin.startswith("uvloop==") for pin in plain)


def test_every_shop_service_gets_an_image_that_serves_on_all_its_interfaces() -> None:
    plan = plan_images(load_topology(REFERENCE))
    assert set(plan.commands) == {
        "gateway", "users", "inventory", "payments", "orders", "notifications", "fault-proxy",
    }  # fmt: skip
    users = plan.commands["users"]
    assert users[:4] == ["python3", "-m", "uvicorn", "shop.users.app:app"]
    assert users[users.index("--host") + 1] == "0.0.0.0"
    assert plan.commands["payments"][2] == "gunicorn"
    assert f"0.0.0.0:{SERVICE_PORT}" in plan.commands["payments"]
    assert plan.ports["fault-proxy"] == FAULT_PROXY_API_PORT
    assert set(plan.sources) == {"shop", "harness"}
    assert any(pin.startswith("fastapi==") for pin in plan.requirements)


def test_a_topology_without_edges_needs_no_fault_proxy_image() -> None:
    plan = plan_images(shop_subset(["users"], []))
    assert set(plan.commands) == {"users"}
    assert set(plan.sources) == {"shop"}


def test_a_service_given_by_a_command_is_refused_with_the_reason() -> None:
    topology = parse_topology(
        {"services": {"tool": {"command": ["{python}", "-m", "http.server", "{port}"]}}}
    )
    with pytest.raises(HarnessRuntimeError, match=r"service 'tool' has a `command`.*`app`"):
        plan_images(topology)


def test_engine_settings_fill_only_what_the_environment_leaves_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ENGINE_ENV_FILE).write_text(
        "# written by setup.sh\nDOCKER_HOST=unix:///from/the/file.sock\n"
        "export TESTCONTAINERS_RYUK_DISABLED='true'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DOCKER_HOST", "unix:///set/by/the/user.sock")
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    applied = configure_environment(tmp_path)
    assert applied == {"TESTCONTAINERS_RYUK_DISABLED": "true"}
    assert os.environ["DOCKER_HOST"] == "unix:///set/by/the/user.sock"
