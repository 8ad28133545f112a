"""`python -m harness.faultproxy` and the `harness toxiproxy` command function."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from harness import http_clients
from harness.faultproxy.__main__ import parse_args
from harness.faultproxy.cli import app
from harness.runtime.ports import pick_free_ports

from .support import embedded_only, wait_until

pytestmark = embedded_only


@pytest.mark.parametrize(
    "argv",
    [
        ["-host", "127.0.0.2", "-port", "9000", "-config", "c.json", "-seed", "7"],
        ["--host", "127.0.0.2", "--port", "9000", "--config", "c.json", "--seed", "7"],
        ["-host=127.0.0.2", "-port=9000", "-config=c.json", "-seed=7"],
        ["--host=127.0.0.2", "--port=9000", "--config=c.json", "--seed=7"],
    ],
)
def test_flags_accept_go_and_gnu_spellings(argv: list[str]) -> None:
    args = parse_args(argv)
    assert (args.host, args.port, args.config, args.seed) == ("127.0.0.2", 9000, "c.json", 7)


def test_defaults_are_loopback_and_the_real_servers_port() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.config, args.seed) == ("127.0.0.1", 8474, None, None)


@pytest.mark.integration
def test_module_serves_its_config_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps([{"name": "from-config", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}])
    )
    (port,) = pick_free_ports(1)  # reserved: bind(0)'s range is shared with outgoing connections
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.faultproxy", "-port", str(port), "-config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return http_clients.get(f"{url}/version", timeout=1.0).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                return False

        wait_until(answers, timeout=15.0)
        proxies = http_clients.get(f"{url}/proxies", timeout=5.0).json()
        assert proxies["from-config"]["enabled"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10.0) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.integration
def test_module_exits_2_with_a_clear_message_for_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('[{"name": "p"}]')
    result = subprocess.run(
        [sys.executable, "-m", "harness.faultproxy", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"config {config}: missing required field: upstream at proxy 1" in result.stderr


def test_typer_command_reports_a_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(app, ["--port", "0", "--config", str(missing)])
    assert result.exit_code == 2
    assert f"config {missing}: cannot read" in result.output


def test_harness_toxiproxy_is_a_plain_command_with_its_flags() -> None:
    from harness.cli import app as harness_app

    result = CliRunner().invoke(harness_app, ["toxiproxy", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage: harness toxiproxy [OPTIONS]" in result.output
    assert "COMMAND" not in result.output
    for flag in ("--host", "--port", "--config", "--seed"):
        assert flag in result.output


def test_harness_toxiproxy_takes_its_flags_directly(tmp_path: Path) -> None:
    from harness.cli import app as harness_app

    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(harness_app, ["toxiproxy", "--port", "0", "--config", str(missing)])
    assert result.exit_code == 2
    assert f"config {missing}: cannot read" in result.output
