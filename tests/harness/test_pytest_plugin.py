"""The pytest plugin: a session system, healed between tests, from a configured topology."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runtime_helpers import APPS

from harness.pytest_plugin import topology_path as plugin_topology_path

EDGELESS = f"""
[services.echo]
app = "echo_asgi:app"
cwd = "{APPS}"
"""

TESTS = textwrap.dedent(
    """
    import httpx
    import pytest

    from harness.faults import UnknownEdgeError

    PIDS = []

    def test_one_kills_a_service(system):
        PIDS.append(system.services["echo"].pid)
        system.kill("echo")

    def test_two_finds_it_restarted(system):
        assert system.services["echo"].pid != PIDS[0]
        assert httpx.get(system.url("echo") + "/health", trust_env=False).status_code == 200

    def test_three_sees_the_same_session_system(harness_system, system):
        assert harness_system is system

    def test_faults_name_the_edges_there_are(faults):
        with pytest.raises(UnknownEdgeError, match="edges are: [(]none[)]"):
            faults.partition("echo->echo")
    """
)


def run_pytest(
    tmp_path: Path, cli_env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:pact", "-q", *args],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.integration
def test_system_fixture_brings_the_topology_up_and_heals_it_between_tests(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(EDGELESS, encoding="utf-8")
    result = run_pytest(tmp_path, cli_env, "--harness-topology", str(topology))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


class FakeConfig:
    """The two pytest.Config lookups the plugin makes."""

    def __init__(self, option: str | None = None, ini: str = "") -> None:
        self.option, self.ini, self.rootpath = option, ini, Path("/project")

    def getoption(self, name: str) -> str | None:
        return self.option

    def getini(self, name: str) -> str:
        return self.ini


def topology_path(config: FakeConfig) -> Path:
    return plugin_topology_path(config)  # type: ignore[arg-type]


def test_topology_comes_from_option_then_ini_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TOPOLOGY", "/env/system.toml")
    assert topology_path(FakeConfig("cli.toml", "ini.toml")) == Path("cli.toml")
    assert topology_path(FakeConfig(None, "ini.toml")) == Path("/project/ini.toml")
    assert topology_path(FakeConfig()) == Path("/env/system.toml")


def test_without_a_topology_the_fixture_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARNESS_TOPOLOGY", raising=False)
    with pytest.raises(pytest.UsageError, match=r"--harness-topology FILE.*harness_topology"):
        topology_path(FakeConfig())
