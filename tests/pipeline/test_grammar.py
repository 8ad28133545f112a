"""One command-line grammar: every stage command and `harness run` take `-t/--topology`,
`--seed`, `--out`, `--junit-xml`, `-q/-v`; help shows no stray types; groups that need a
command say so; `--version`; `up --json` / `status --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "harness" / "apps" / "system.toml"
STAGE_COMMANDS = [
    ["run"],
    ["chaos", "run"],
    ["load", "run"],
    ["fuzz", "run"],
    ["contracts", "verify"],
]
SHARED = ["--topology", "-t", "--seed", "--out", "--junit-xml", "--quiet", "-q", "--verbose", "-v"]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250", "NO_COLOR": "1"})
    return result.exit_code, result.output


@pytest.mark.parametrize("command", STAGE_COMMANDS, ids=" ".join)
def test_every_stage_command_takes_the_shared_options(command: list[str]) -> None:
    code, text = invoke(*command, "--help")
    assert code == 0, text
    for option in SHARED:
        assert f" {option} " in text, f"{' '.join(command)} lacks {option}"
    assert "<bool>" not in text
    assert "target-system" not in text


@pytest.mark.parametrize(
    "command", [[], ["up"], ["status"], ["chaos"], ["load"], ["containers", "build"]], ids=" ".join
)
def test_help_shows_no_type_on_flags(command: list[str]) -> None:
    code, text = invoke(*command, "--help")
    assert code == 0, text
    assert "<bool>" not in text


@pytest.mark.parametrize("group", ["chaos", "load", "fuzz", "contracts", "containers"])
def test_a_group_called_bare_says_it_needs_a_command_and_runs_nothing(
    group: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))
    code, text = invoke(group)
    assert code == 2
    assert f"harness {group}: needs a command" in text
    assert not (tmp_path / "home").exists()


def test_version() -> None:
    code, text = invoke("--version")
    assert code == 0
    assert text.startswith("harness ")


def test_load_run_refuses_users_on_a_staged_profile_before_starting_anything(
    tmp_path: Path,
) -> None:
    code, text = invoke(
        "load", "run", str(ROOT / "load" / "profiles" / "release.yaml"), "-t", str(MINI), "-u", "3"
    )
    assert code == 2
    assert "this profile runs in stages" in " ".join(text.split())


def test_load_run_overrides_must_still_fit_the_fault_schedule(tmp_path: Path) -> None:
    code, text = invoke(
        "load", "run", str(ROOT / "load" / "profiles" / "smoke.yaml"), "-t", str(MINI),
        "-u", "2", "-r", "2", "--duration", "3",
    )  # fmt: skip
    assert code == 2
    flat = " ".join(text.split())
    assert "with the command line's overrides" in flat
    assert "the load lasts 3s" in flat


@pytest.mark.integration
def test_up_and_status_print_json_with_the_fault_proxy_api_url(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HARNESS_HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("TOXIPROXY_URL", None)

    def harness(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["harness", *args], env=env, capture_output=True, text=True, timeout=120
        )

    up = harness("up", "-t", str(MINI), "--json")
    try:
        assert up.returncode == 0, up.stderr
        started = json.loads(up.stdout)  # nothing but JSON on stdout
        api = started["fault_proxy"]["api_url"]
        assert api.startswith("http://127.0.0.1:")
        assert set(started["services"]) == {"echo", "legacy", "caller"}
        assert started["edges"]["caller->echo"]["env_var"] == "ECHO_URL"
        status = harness("status", "--json")
        assert status.returncode == 0, status.stderr
        seen = json.loads(status.stdout)
        assert seen["fault_proxy"]["api_url"] == api
        assert all(service["healthy"] for service in seen["services"].values())
        assert seen["edges"]["caller->echo"]["enabled"] is True
        assert seen["edges"]["caller->echo"]["toxics"] == []
    finally:
        down = harness("down")
        assert down.returncode == 0, down.stderr


def test_stage_commands_without_inputs_take_the_topologys_and_say_when_there_are_none(
    tmp_path: Path,
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text('[services.api]\nurl = "http://127.0.0.1:9"\n')
    code, text = invoke("chaos", "run", "-t", str(topology))
    assert code == 2
    flat = " ".join(text.split())
    assert "nothing to run: no experiments: [pipeline] experiments is not set" in flat
    code, text = invoke("contracts", "verify", "-t", str(topology))
    assert code == 2
    assert "nothing to verify: no pacts: [pipeline] pacts is not set" in " ".join(text.split())
    code, text = invoke("load", "run", "-t", str(topology))
    assert code == 2
    assert "nothing to run: no load profile: [pipeline] load_profile" in " ".join(text.split())
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "bad.yaml").write_text("title: t\n")  # found, then refused
    code, text = invoke("chaos", "run", "-t", str(topology))
    assert code == 2
    assert "bad.yaml: method: Field required" in " ".join(text.split())


@pytest.mark.parametrize(
    "command",
    [*STAGE_COMMANDS, ["up"], ["containers", "build"]],
    ids=" ".join,
)
def test_every_command_without_a_topology_says_where_it_looked(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./system.toml here
    monkeypatch.delenv("HARNESS_TOPOLOGY", raising=False)
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))
    args = [*command]
    if command == ["chaos", "run"]:
        args.append(str(ROOT / "chaos" / "01_payments_latency.yaml"))
    if command == ["load", "run"]:
        (tmp_path / "lf.py").write_text("")
        (tmp_path / "p.yaml").write_text("locustfile: lf.py\nusers: 1\nduration: 5s\n")
        args.append("p.yaml")
    code, text = invoke(*args)
    assert code == 2, text
    flat = " ".join(text.split())
    assert "-t/--topology" in flat
    assert "$HARNESS_TOPOLOGY" in flat
    assert not (tmp_path / "home" / "runs").exists()


@pytest.mark.parametrize(
    "command", [["run"], ["chaos", "run"], ["load", "run"], ["contracts", "verify"]], ids=" ".join
)
def test_help_names_the_pipeline_table_as_written(command: list[str]) -> None:
    code, text = invoke(*command, "--help")
    assert code == 0
    assert "[pipeline]" in text  # not swallowed as markup
