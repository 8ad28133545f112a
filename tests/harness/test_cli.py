"""The `harness` command: up / status / logs / down, bad input, and stale runs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from runtime_helpers import APPS, MINI, alive, assert_nothing_left, harness_cli, needs_fault_proxy
from typer.testing import CliRunner

from harness.cli import app
from harness.cli.system import BackendChoice
from harness.runtime import BACKENDS
from harness.runtime.rundir import list_run_dirs, read_state

EDGELESS = f"""
[system]
startup_timeout = 30.0

[conventions]
health = "/health"

[services.echo]
app = "echo_asgi:app"
cwd = "{APPS}"

[services.legacy]
app = "hello_wsgi:app"
kind = "wsgi"
threads = 2
cwd = "{APPS}"
"""


def run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness_cli(*args), env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def edgeless(tmp_path: Path) -> Path:
    path = tmp_path / "system.toml"
    path.write_text(EDGELESS, encoding="utf-8")
    return path


def test_the_backend_choices_are_the_registered_backends() -> None:
    assert [choice.value for choice in BackendChoice] == list(BACKENDS)


def test_logs_with_a_negative_line_count_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(app, ["logs", "orders", "-n", "-5"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "--lines" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [[], ["up"], ["status"], ["down"], ["logs"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_the_console_script_runs(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "--help")
    assert result.returncode == 0, result.stderr
    assert "up" in result.stdout


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param('[services.a]\napp = "m:app"\nprot = 1\n', "unknown key 'prot'", id="key"),
        pytest.param(
            'edges = ["a -> b"]\n[services.a]\napp = "m:app"\n',
            "unknown service 'b'",
            id="edge-to-unknown-service",
        ),
        pytest.param('[services.a]\napp = "m:app"\nport = -1\n', "services.a.port", id="port"),
    ],
)
def test_up_with_a_malformed_topology_says_why_and_starts_nothing(
    home: Path, tmp_path: Path, body: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(app, ["up", "--topology", str(path)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())  # rich may wrap long lines
    assert str(path) in message
    assert expected in message
    assert list_run_dirs(home) == []  # nothing was started


@pytest.mark.integration
@pytest.mark.slow
def test_up_status_logs_down_from_separate_processes(
    cli_env: dict[str, str], home: Path, edgeless: Path
) -> None:
    up = run(cli_env, "up", "-t", str(edgeless))
    assert up.returncode == 0, up.stderr
    assert "all 2 services healthy in" in up.stdout
    (run_dir,) = list_run_dirs(home)
    state = read_state(run_dir)
    assert state is not None
    pids = [p.pid for p in state.processes()]
    try:
        status = run(cli_env, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("healthy") == 2

        again = run(cli_env, "up", "-t", str(edgeless))
        assert again.returncode == 1
        assert "already up" in again.stderr

        logs = run(cli_env, "logs", "legacy", "-n", "200")
        assert logs.returncode == 0
        assert "GET /health" in logs.stdout
        unknown = run(cli_env, "logs", "nope")
        assert unknown.returncode == 1
        assert "choose one of: echo, legacy" in unknown.stderr
    finally:
        down = run(cli_env, "down")
    assert down.returncode == 0, down.stderr
    assert "no process left" in down.stdout
    assert_nothing_left(pids, state.ports())
    nothing = run(cli_env, "status")
    assert nothing.returncode == 1
    assert "no system is up" in nothing.stderr
    assert run(cli_env, "down").stdout.strip() == "nothing is up"


def wait_for_line(process: subprocess.Popen[str], fragment: str, timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if fragment in line:
            return line
    raise AssertionError(f"{fragment!r} not printed; got: {''.join(seen)}")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    "with_proxies", [False, pytest.param(True, marks=needs_fault_proxy)], ids=["edgeless", "mini"]
)
def test_next_up_cleans_the_run_left_by_a_sigkilled_harness(
    cli_env: dict[str, str], home: Path, edgeless: Path, with_proxies: bool
) -> None:
    topology = MINI if with_proxies else edgeless
    owner = subprocess.Popen(
        harness_cli("up", "--foreground", "-t", str(topology)),
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(owner, "healthy in", timeout=60)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    (stale_dir,) = list_run_dirs(home)
    stale = read_state(stale_dir)
    assert stale is not None
    stale_pids = [p.pid for p in stale.processes()]
    assert all(alive(pid) for pid in stale_pids), "services outlive a SIGKILLed harness"

    if with_proxies:  # the embedded fault proxy outlives its harness too, and is cleaned
        assert stale.fault_proxy is not None
        assert stale.fault_proxy.process is not None
        assert stale.fault_proxy.process.pid in stale_pids
    up = run(cli_env, "up", "-t", str(topology))
    try:
        assert up.returncode == 0, up.stderr
        assert f"cleaned a stale run {stale_dir}" in " ".join(up.stdout.split())
        assert_nothing_left(stale_pids, stale.ports())
        cleaned = read_state(stale_dir)
        assert cleaned is not None
        assert cleaned.status == "stopped"
    finally:
        assert run(cli_env, "down").returncode == 0


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_foreground_up_stops_everything_on_sigterm_or_ctrl_c(
    cli_env: dict[str, str], home: Path, edgeless: Path, signum: signal.Signals
) -> None:
    owner = subprocess.Popen(
        harness_cli("up", "--foreground", "-t", str(edgeless)),
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(owner, "healthy in", timeout=60)
        (run_dir,) = list_run_dirs(home)
        state = read_state(run_dir)
        assert state is not None
        owner.send_signal(signum)
        owner.wait(timeout=30)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    assert_nothing_left([p.pid for p in state.processes()], state.ports())
    final = read_state(run_dir)
    assert final is not None
    assert json.loads(final.model_dump_json())["status"] == "stopped"


@pytest.mark.integration
@pytest.mark.slow
def test_a_foreground_run_is_visible_to_status_and_stopped_by_down(
    cli_env: dict[str, str], home: Path, edgeless: Path
) -> None:
    owner = subprocess.Popen(
        harness_cli("up", "--foreground", "-t", str(edgeless)),
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(owner, "healthy in", timeout=60)
        assert run(cli_env, "status").returncode == 0
        assert run(cli_env, "down").returncode == 0
        wait_for_line(owner, "stopped by `harness down`", timeout=30)
        assert owner.wait(timeout=30) == 0
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
