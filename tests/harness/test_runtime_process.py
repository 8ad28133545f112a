"""The process backend with the fixture apps: start, health, logs, process faults, teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from runtime_helpers import APPS, alive, assert_nothing_left, variant

from harness import http_clients
from harness.runtime import (
    NotStartedByHarness,
    RunningSystem,
    StartupError,
    UnknownServiceError,
    launch,
    open_run,
    start_system,
)
from harness.runtime.forking import ForkServer, SpawnSpec
from harness.runtime.ports import pick_free_ports, port_is_listening
from harness.runtime.rundir import RUN_ID_ENV, new_state, read_state, write_state
from harness.runtime.teardown import stop_run
from harness.topology import Topology, parse_topology

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def running(
    mini_without_edges: Topology, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    """One system for the process-fault tests; each test leaves it healed (`restore`)."""
    home = tmp_path_factory.mktemp("home")
    with start_system(mini_without_edges, home=home) as system:
        yield system


@pytest.fixture
def system(running: RunningSystem) -> Iterator[RunningSystem]:
    yield running
    running.restore()


def get(url: str, timeout: float = 5.0) -> httpx.Response:
    return http_clients.get(url, timeout=timeout, trust_env=False)


def test_every_service_answers_on_its_own_port_with_its_env(system: RunningSystem) -> None:
    assert set(system.services) == {"echo", "legacy", "caller"}
    assert get(system.url("echo") + "/hello").json()["hello"] == "echo"
    assert get(system.url("legacy") + "/hello").json()["hello"] == "legacy"
    data_file = get(system.url("echo") + "/env?DATA_FILE").json()["DATA_FILE"]
    assert data_file == str(system.run_dir / "echo.db")  # {run_dir}/{name} rendered per service
    assert len({s.port for s in system.services.values()}) == 3


def test_each_service_logs_to_its_own_file_in_the_run_dir(system: RunningSystem) -> None:
    get(system.url("legacy") + "/hello")
    log_path = system.services["legacy"].log_path
    assert log_path == system.run_dir / "legacy.log"
    assert "GET /hello" in log_path.read_text()
    assert (system.run_dir / "state.json").is_file()


def test_kill_refuses_connections_and_restart_serves_again_on_the_same_port(
    system: RunningSystem,
) -> None:
    before = system.services["echo"]
    old_pid, port = before.pid, before.port
    system.kill("echo")
    assert old_pid is not None
    assert not alive(old_pid)
    with pytest.raises(httpx.ConnectError):
        get(system.url("echo") + "/hello")

    system.restart("echo")
    after = system.services["echo"]
    assert (after.port, after.pid != old_pid) == (port, True)
    assert get(system.url("echo") + "/hello").json()["hello"] == "echo"


def test_kill_reaches_every_process_of_the_group(system: RunningSystem) -> None:
    import psutil

    master = system.services["legacy"].pid
    assert master is not None
    workers = [p.pid for p in psutil.Process(master).children()]
    assert workers, "gunicorn should run a worker process"
    system.kill("legacy")
    assert [pid for pid in [master, *workers] if alive(pid)] == []


def test_pause_stops_answers_until_resume(system: RunningSystem) -> None:
    system.pause("caller")
    assert system.services["caller"].paused
    with pytest.raises(httpx.TimeoutException):
        get(system.url("caller") + "/health", timeout=0.5)
    system.resume("caller")
    assert get(system.url("caller") + "/health").status_code == 200


def test_restore_resumes_paused_and_restarts_killed_services(system: RunningSystem) -> None:
    system.pause("echo")
    system.kill("legacy")
    system.restore()
    assert get(system.url("echo") + "/health", timeout=2).status_code == 200
    assert get(system.url("legacy") + "/health", timeout=2).status_code == 200
    assert not any(s.paused for s in system.services.values())


def test_unknown_service_is_named_with_the_known_ones(system: RunningSystem) -> None:
    with pytest.raises(UnknownServiceError, match="unknown service 'nope'; services are: "):
        system.kill("nope")


def test_a_detached_run_can_be_driven_and_stopped_from_its_state_file(
    mini_without_edges: Topology, home: Path
) -> None:
    system = launch(mini_without_edges, home=home)
    system.detach()
    pids = [s.pid for s in system.services.values() if s.pid]
    ports = [s.port for s in system.services.values() if s.port]

    other = open_run(home=home)  # what `harness status/down` do in another process
    assert other.url("echo") == system.url("echo")
    other.kill("echo")
    other.restart("echo")
    assert get(other.url("echo") + "/hello").status_code == 200
    pids.append(other.services["echo"].pid or 0)
    report = other.stop()
    assert report.clean
    assert_nothing_left(pids, ports)


def test_teardown_leaves_no_process_and_no_listening_port(
    mini_without_edges: Topology, home: Path
) -> None:
    with start_system(mini_without_edges, home=home) as system:
        pids = [s.pid for s in system.services.values() if s.pid]
        ports = [s.port for s in system.services.values() if s.port]
        run_dir = system.run_dir
    assert_nothing_left(pids, ports)
    state = read_state(run_dir)
    assert state is not None
    assert state.status == "stopped"


def test_teardown_also_runs_when_the_block_raises(mini_without_edges: Topology, home: Path) -> None:
    pids: list[int] = []

    def failing_test() -> None:
        with start_system(mini_without_edges, home=home) as system:
            pids.extend(s.pid for s in system.services.values() if s.pid)
            raise RuntimeError("test failed")

    with pytest.raises(RuntimeError, match="test failed"):
        failing_test()
    assert pids
    assert_nothing_left(pids, [])


def test_a_service_that_cannot_start_fails_with_its_log_and_stops_the_others(home: Path) -> None:
    topology = parse_topology(
        {
            "system": {"startup_timeout": 20},
            "services": {
                "echo": {"app": "echo_asgi:app"},
                "broken": {"app": "no_such_module:app"},
            },
        },
        source=APPS / "inline.toml",
    )
    with pytest.raises(StartupError) as caught:
        launch(topology, home=home)
    message = str(caught.value)
    assert "broken: exited with code" in message
    assert "no_such_module" in message  # from the service's own log
    assert "everything started was stopped" in message
    (run_dir,) = (home / "runs").iterdir()
    state = read_state(run_dir)
    assert state is not None
    assert state.status == "stopped"
    assert_nothing_left([p.pid for p in state.processes()], state.ports())


def test_preloaded_services_start_through_the_fork_server(
    mini_without_edges: Topology, home: Path
) -> None:
    topology = variant(
        mini_without_edges, system={"preload": ["httpx", "gunicorn.app.wsgiapp", "uvicorn.main"]}
    )
    with start_system(topology, home=home) as system:
        assert (system.run_dir / "fork-server.log").is_file()
        assert get(system.url("caller") + "/health").status_code == 200
        assert get(system.url("legacy") + "/hello").json()["hello"] == "legacy"
        system.kill("echo")
        system.restart("echo")  # a restart runs the same argv again (forked, see below)
        assert get(system.url("echo") + "/hello").json()["hello"] == "echo"
        pids = [s.pid or 0 for s in system.services.values()]
        servers = [p.pid for p in psutil.Process().children() if _is_fork_server(p)]
        assert len(servers) == 1  # kept for restarts
        pids += servers
    assert_nothing_left(pids, [])  # the fork server is stopped with the system


def _is_fork_server(process: psutil.Process) -> bool:
    try:
        return any(part.endswith("forkserver.py") for part in process.cmdline())
    except psutil.Error:  # gone, or a zombie: not a running fork server
        return False


def test_a_restart_forks_from_the_runs_fork_server_and_spawns_once_it_is_gone(
    mini_without_edges: Topology, home: Path
) -> None:

    topology = variant(mini_without_edges, system={"preload": ["httpx", "uvicorn.main"]})
    with start_system(topology, home=home) as system:
        port, log_path = system.services["echo"].port, system.services["echo"].log_path
        system.restart("echo")
        forked = system.services["echo"].pid
        assert forked is not None
        server = psutil.Process(forked).parent()
        assert server is not None
        assert _is_fork_server(server)
        assert os.getpgid(forked) == forked  # a process group of its own, as spawned ones
        assert system.services["echo"].port == port
        assert get(system.url("echo") + "/env?DATA_FILE").json()["DATA_FILE"] == str(
            system.run_dir / "echo.db"
        )  # the same env
        assert log_path is not None
        assert log_path.read_text().count("Application startup complete") == 2  # appended

        server.kill()
        server.wait(timeout=10)
        system.restart("echo")  # the fork server is gone: a cold spawn
        spawned = system.services["echo"].pid
        assert spawned is not None
        assert psutil.Process(spawned).ppid() == os.getpid()
        assert get(system.url("echo") + "/hello").json()["hello"] == "echo"
        pids = [s.pid or 0 for s in system.services.values()] + [forked, server.pid]
    assert_nothing_left(pids, [port or 0])


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from harness.runtime import start_system
    from harness.topology import load_topology, parse_topology

    topology = load_topology(Path(sys.argv[1]))
    data = topology.model_dump(mode="json", by_alias=True)
    data["edges"] = []
    with start_system(parse_topology(data, source=topology.path), home=Path(sys.argv[2])) as s:
        print(json.dumps([h.pid for h in s.services.values()]), flush=True)
        time.sleep(60)
    """
)


def test_sigterm_to_the_harness_stops_every_service(home: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(APPS / "system.toml"), str(home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        pids = json.loads(owner.stdout.readline())
        assert all(alive(pid) for pid in pids)
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    assert_nothing_left(pids, [])


def test_process_faults_need_a_started_process(home: Path, running: RunningSystem) -> None:
    topology = parse_topology(
        {"services": {"outside": {"url": running.url("echo")}}}, source="inline.toml"
    )
    with start_system(topology, home=home) as system:
        assert system.services["outside"].pid is None
        with pytest.raises(NotStartedByHarness, match="not started by the harness"):
            system.kill("outside")


def test_a_service_that_exits_during_start_up_is_reported_as_exited_not_as_a_timeout(
    home: Path,
) -> None:
    topology = parse_topology(
        {
            "system": {"startup_timeout": 30},
            "services": {
                "echo": {"app": "echo_asgi:app"},
                "short-lived": {
                    "command": [
                        "{python}",
                        "-c",
                        "import sys, time; print('giving up', flush=True); time.sleep(1.8); "
                        "sys.exit(3)",
                    ]
                },
            },
        },
        source=APPS / "inline.toml",
    )
    with pytest.raises(StartupError) as caught:
        launch(topology, home=home)
    message = str(caught.value)
    assert message.startswith("short-lived exited during start-up"), message
    assert "did not come up" not in message
    assert "short-lived: exited with code 3" in message
    assert "giving up" in message  # its log tail


def test_a_service_with_no_health_path_is_up_once_it_answers_any_http(home: Path) -> None:
    """`health = ""` (the default convention): any HTTP answer at `/` means it is up."""
    topology = parse_topology(
        {
            "services": {
                "plain": {
                    "command": ["{python}", "-m", "http.server", "{port}", "--bind", "{host}"]
                }
            }
        },
        source=APPS / "inline.toml",
    )
    assert topology.conventions_for("plain").health == ""
    with start_system(topology, home=home) as system:
        assert system.health() == {"plain": None}
        assert get(system.url("plain") + "/health").status_code == 404  # it really has none


def test_teardown_finds_services_forked_before_their_pids_reached_the_state_file(
    tmp_path: Path,
) -> None:
    """The owner killed between the fork and reading the child's pid: the child is in no
    record, but it carries the run's mark, and teardown from the state file finds it."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    topology = parse_topology(
        {"services": {"plain": {"url": "http://127.0.0.1:9"}}}, source=APPS / "inline.toml"
    )
    state = new_state(topology, run_dir=run_dir, backend="process")
    write_state(run_dir, state)
    (port,) = pick_free_ports(1)
    mark = {RUN_ID_ENV: state.run_id}
    spec = SpawnSpec(
        key="plain",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        env=mark,
        cwd=tmp_path,
        log_path=tmp_path / "plain.log",
    )
    forks = ForkServer([spec], preload=[], server_log=tmp_path / "fork-server.log", env=mark)
    try:
        forks.begin()
        deadline = time.monotonic() + 20
        while not port_is_listening(port):
            assert time.monotonic() < deadline, "the forked service did not listen"
            time.sleep(0.05)
        assert state.processes() == []  # nobody read its pid
        report = stop_run(run_dir, state)
    finally:
        forks.abort()
    assert report.unrecorded >= 1
    assert report.clean
    assert not port_is_listening(port)
