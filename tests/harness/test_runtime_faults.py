"""Every edge through its own fault proxy: the embedded one, or an external Toxiproxy server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import alive, assert_nothing_left, harness_cli, needs_fault_proxy

from harness import http_clients
from harness.faults import FaultProxyUnavailable, ToxiproxyClient
from harness.runtime import NotStartedByHarness, RunningSystem, open_run, start_system
from harness.runtime.embedded_proxy import wait_api
from harness.runtime.ports import pick_free_ports
from harness.topology import Topology, parse_topology

pytestmark = [pytest.mark.integration, needs_fault_proxy]

LATENCY_MS = 2000  # far above any local call, even on a busy machine


@pytest.fixture(scope="module")
def proxied(mini: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    with start_system(mini, home=tmp_path_factory.mktemp("home"), toxiproxy_url=None) as system:
        yield system


@pytest.fixture
def system(proxied: RunningSystem) -> Iterator[RunningSystem]:
    yield proxied
    proxied.restore()


def call(system: RunningSystem, dependency: str) -> tuple[int, dict[str, Any]]:
    """What the caller service sees when it calls `dependency` through its env URL."""
    response = http_clients.get(
        f"{system.url('caller')}/call/{dependency}", timeout=30, trust_env=False
    )
    return response.status_code, response.json()


def test_each_edge_has_its_own_proxy_and_the_caller_gets_its_address(
    system: RunningSystem,
) -> None:
    assert set(system.edges) == {"caller->echo", "caller->legacy"}
    proxies = system.faults.client.proxies()
    for name, edge in system.edges.items():
        assert edge.proxy_name == name
        assert proxies[name]["listen"] == edge.listen
        assert edge.upstream == system.url(edge.target).removeprefix("http://")
    status, seen = call(system, "echo")
    assert status == 200
    assert seen["via"] == system.edges["caller->echo"].url  # not the direct address
    assert seen["body"]["hello"] == "echo"


def test_latency_on_one_edge_slows_only_that_edge(system: RunningSystem) -> None:
    system.faults.add_toxic("caller->echo", "latency", attributes={"latency": LATENCY_MS})
    slowed_status, slowed = call(system, "echo")
    other_status, other = call(system, "legacy")
    assert (slowed_status, other_status) == (200, 200)
    assert slowed["elapsed"] >= LATENCY_MS / 1000
    assert other["elapsed"] < LATENCY_MS / 1000
    assert [t["type"] for t in system.faults.toxics("caller->echo")] == ["latency"]
    assert system.faults.toxics("caller->legacy") == []


def test_a_partitioned_edge_refuses_connections_until_healed(system: RunningSystem) -> None:
    system.faults.partition("caller -> echo")
    status, seen = call(system, "echo")
    assert (status, seen["error"]) == (502, "connect_error")
    assert call(system, "legacy")[0] == 200
    system.faults.heal("caller -> echo")
    assert call(system, "echo")[0] == 200


def test_reset_removes_every_toxic_and_enables_every_proxy(system: RunningSystem) -> None:
    name = system.faults.add_toxic("caller->legacy", "timeout", attributes={"timeout": 0})
    assert name == "timeout_downstream"
    system.faults.partition("caller->echo")
    system.faults.reset()
    assert system.faults.toxics("caller->legacy") == []
    assert (call(system, "echo")[0], call(system, "legacy")[0]) == (200, 200)


def test_a_toxic_in_a_with_block_is_removed_on_exit(system: RunningSystem) -> None:
    with system.faults.toxic("caller->echo", "latency", attributes={"latency": 10}, name="t1"):
        assert [t["name"] for t in system.faults.toxics("caller->echo")] == ["t1"]
    assert system.faults.toxics("caller->echo") == []


def test_the_fault_proxy_stops_with_the_system(mini: Topology, home: Path) -> None:
    with start_system(mini, home=home) as running:
        state = running.state
        assert state.fault_proxy is not None
        assert state.fault_proxy.process is not None
        proxy_pid = state.fault_proxy.process.pid
        assert alive(proxy_pid)
    assert_nothing_left([proxy_pid, *(p.pid for p in state.processes())], state.ports())


@pytest.fixture
def external_proxy(tmp_path: Path) -> Iterator[str]:
    """The embedded proxy run on its own, standing in for a real Toxiproxy server."""
    (port,) = pick_free_ports(1)
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "toxiproxy.log", "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.faultproxy",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_api(ToxiproxyClient(url), None, timeout=15)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_real_toxiproxy_gets_the_proxies_and_loses_them_on_stop(
    mini: Topology, home: Path, external_proxy: str
) -> None:
    server = ToxiproxyClient(external_proxy)
    server.create_proxy("caller->echo", upstream="127.0.0.1:9")  # a leftover: replaced
    with start_system(mini, home=home, toxiproxy_url=external_proxy) as system:
        assert set(server.proxies()) == {"caller->echo", "caller->legacy"}
        assert server.proxy("caller->echo")["upstream"] == system.edges["caller->echo"].upstream
        system.faults.partition("caller->echo")
        assert call(system, "echo")[1]["error"] == "connect_error"
        system.faults.reset()  # only this system's proxies: no POST /reset on a shared server
        assert call(system, "echo")[0] == 200
    assert server.proxies() == {}


def test_attach_uses_running_services_and_the_users_proxies(
    mini: Topology, home: Path, tmp_path: Path, external_proxy: str
) -> None:
    with start_system(mini, home=home, toxiproxy_url=external_proxy) as running:
        attached = parse_topology(
            {
                "services": {name: {"url": running.url(name)} for name in running.services},
                "edges": ["caller -> echo", {"from": "caller", "to": "legacy"}],
            },
            source="attach.toml",
        )
        with start_system(
            attached, backend="attach", home=tmp_path / "h2", toxiproxy_url=external_proxy
        ) as system:
            assert system.edges["caller->echo"].listen == running.edges["caller->echo"].listen
            system.faults.partition("caller->echo")
            assert call(system, "echo")[1]["error"] == "connect_error"
            system.faults.heal("caller->echo")
            with pytest.raises(NotStartedByHarness):
                system.pause("echo")
        with start_system(attached, backend="attach", home=tmp_path / "h3") as no_proxy:
            assert no_proxy.edges["caller->echo"].listen is None
            with pytest.raises(FaultProxyUnavailable, match="TOXIPROXY_URL"):
                no_proxy.faults.partition("caller->echo")


def _attach_topology(path: Path, running: RunningSystem) -> Path:
    services = "\n".join(
        f'[services.{name}]\nurl = "{running.url(name)}"\n' for name in running.services
    )
    path.write_text(
        'edges = ["caller -> echo", "caller -> legacy"]\n\n'
        '[conventions]\nhealth = "/health"\n\n' + services,
        encoding="utf-8",
    )
    return path


def _harness(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness_cli(*args), env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_attach_touches_only_what_it_created_on_the_users_toxiproxy(
    mini_without_edges: Topology,
    home: Path,
    tmp_path: Path,
    external_proxy: str,
    cli_env: dict[str, str],
) -> None:
    server = ToxiproxyClient(external_proxy)
    with start_system(mini_without_edges, home=tmp_path / "users") as users_system:
        echo, legacy, spare = pick_free_ports(3)
        echo_upstream = users_system.url("echo").removeprefix("http://")
        legacy_upstream = users_system.url("legacy").removeprefix("http://")
        server.create_proxy("caller->echo", upstream=echo_upstream, listen=f"127.0.0.1:{echo}")
        server.create_proxy(
            "caller->legacy", upstream=legacy_upstream, listen=f"127.0.0.1:{legacy}"
        )
        server.create_proxy("users-own", upstream=echo_upstream, listen=f"127.0.0.1:{spare}")
        server.add_toxic("caller->echo", type="latency", name="theirs", attributes={"latency": 1})
        server.set_enabled("users-own", False)
        before = server.proxies()
        topology = _attach_topology(tmp_path / "attach.toml", users_system)

        up = _harness(
            cli_env, "up", "--backend", "attach", "-t", str(topology), "--toxiproxy-url",
            external_proxy,
        )  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        opened = open_run(home=home)  # a chaos run or a test in another process
        with opened.faults.toxic("caller->echo", "latency", attributes={"latency": 5}):
            opened.faults.partition("caller->legacy")
            assert server.proxy("caller->legacy")["enabled"] is False
        opened.faults.reset()  # what the end of a chaos run does
        opened.faults.add_toxic("caller->echo", "timeout", attributes={"timeout": 0})  # left on
        assert {t["name"] for t in server.toxics("caller->echo")} == {
            "theirs",
            "timeout_downstream",
        }

        down = _harness(cli_env, "down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert "stale" not in down.stdout
        after = server.proxies()
        assert set(after) == set(before) == {"caller->echo", "caller->legacy", "users-own"}
        assert [t["name"] for t in server.toxics("caller->echo")] == ["theirs"]
        assert after["users-own"]["enabled"] is False
        assert after["caller->legacy"]["enabled"] is True


def test_a_chaos_run_against_missing_attach_proxies_is_one_error_line(
    mini_without_edges: Topology,
    home: Path,
    tmp_path: Path,
    external_proxy: str,
    cli_env: dict[str, str],
) -> None:
    experiment = tmp_path / "latency.yaml"
    experiment.write_text(
        "title: latency on caller -> echo\n"
        "method:\n"
        "  duration: 1s\n"
        "  faults:\n"
        "    - edge: caller -> echo\n"
        "      toxic: latency\n"
        "      attributes: {latency: 10}\n"
        "      start: 0s\n"
        "      duration: 1s\n",
        encoding="utf-8",
    )
    with start_system(mini_without_edges, home=tmp_path / "users") as users_system:
        topology = _attach_topology(tmp_path / "attach.toml", users_system)
        result = _harness(
            {**cli_env, "TOXIPROXY_URL": external_proxy},
            "chaos", "run", str(experiment), "--topology", str(topology), "--backend", "attach",
            "--out", str(tmp_path / "journals"), "--no-live",
        )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "no proxy named 'caller->echo'" in errors[0]
