"""`harness contracts ...` from the command line: verify (process and attach backends),
publish and can-i-deploy, with their exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from contracts_testing import PACTS_DIR
from standin_broker import standin_broker
from typer.testing import CliRunner

from harness.contracts.cli import app
from harness.runtime import RunningSystem

runner = CliRunner()
# How the shop's services set up provider states (target-system/system.toml).
SHOP_CONVENTIONS = """
[conventions]
provider_states = "/_test/provider-states"
messages = "/_test/messages"
"""


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PACT_BROKER_URL", "PACT_BROKER_BASE_URL", "PACT_BROKER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")


def users_pacts(directory: Path, *, provider: str = "users") -> Path:
    """The shop's pacts with `users`, renamed to `provider`."""
    directory.mkdir()
    for name in ("gateway-users.json", "orders-users.json"):
        document = json.loads((PACTS_DIR / name).read_text())
        document["provider"]["name"] = provider
        (directory / name).write_text(json.dumps(document))
    return directory


def attach_topology(path: Path, system: RunningSystem, *names: str) -> Path:
    """A topology of `system`'s services, as already running (attach backend)."""
    tables = [f'[services.{n}]\nurl = "{system.url(n)}"\n' for n in names]
    path.write_text(SHOP_CONVENTIONS + "\n".join(tables))
    return path


@pytest.mark.integration
def test_verify_passes_and_prints_every_interaction(
    variants: RunningSystem, tmp_path: Path
) -> None:
    topology = attach_topology(tmp_path / "system.toml", variants, "users")
    result = runner.invoke(
        app,
        [
            "verify",
            "--topology",
            str(topology),
            "--pacts",
            str(users_pacts(tmp_path / "p")),
            "--backend",
            "attach",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "a request from the gateway for a user" in result.output
    assert "6/6 interactions passed across 1 providers" in result.output
    assert "PASS" in result.output
    report = json.loads((tmp_path / "out" / "contracts.json").read_text())
    assert report["passed"] is True
    assert report["figures"]["interactions"] == 6


@pytest.mark.integration
def test_verify_fails_with_the_verifiers_output_naming_the_field(
    variants: RunningSystem, tmp_path: Path
) -> None:
    topology = attach_topology(tmp_path / "system.toml", variants, "users-renamed")
    pacts = users_pacts(tmp_path / "p", provider="users-renamed")
    result = runner.invoke(
        app,
        ["verify", "--topology", str(topology), "--pacts", str(pacts), "--backend", "attach"],
    )
    assert result.exit_code == 1, result.output
    assert "users-renamed failed verification" in result.output
    assert "Actual map is missing the following keys: email" in result.output
    assert "FAIL" in result.output


@pytest.mark.integration
def test_verify_starts_each_provider_in_its_declared_test_mode(tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        '[system.env]\nDATABASE_URL = "sqlite:///{run_dir}/{name}.db"\n\n'
        '[services.users]\napp = "shop.users.app:app"\n\n'
        "[services.users.conventions]\n"
        'health = "/health"\nprovider_states = "/_test/provider-states"\n'
        'test_env = { SHOP_TEST_MODE = "true" }\n'
    )
    result = runner.invoke(
        app, ["verify", "--topology", str(topology), "--pacts", str(users_pacts(tmp_path / "p"))]
    )
    # Without its test_env the provider-state route would be missing and every state fail.
    assert result.exit_code == 0, result.output
    assert "6/6 interactions passed" in result.output


def test_verify_names_an_unusable_pact_directory(tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text('[services.users]\nurl = "http://127.0.0.1:9"\n')
    result = runner.invoke(
        app, ["verify", "--topology", str(topology), "--pacts", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert "no such pact directory" in result.output


def test_verify_names_a_bad_topology(tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text("[services.users]\nport = 'x'\n")
    result = runner.invoke(app, ["verify", "--topology", str(topology)])
    assert result.exit_code == 2
    assert str(topology) in result.output


def test_verify_refuses_an_env_that_is_not_key_value(tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text('[services.users]\nurl = "http://127.0.0.1:9"\n')
    result = runner.invoke(
        app, ["verify", "--topology", str(topology), "--pacts", str(PACTS_DIR), "--env", "X"]
    )
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output


def test_publish_needs_a_broker() -> None:
    result = runner.invoke(app, ["publish", "--pacts", str(PACTS_DIR)])
    assert result.exit_code == 2
    assert "PACT_BROKER_URL" in result.output


def test_publish_sends_the_pacts_to_the_broker(tmp_path: Path) -> None:
    pacts = tmp_path / "pacts"
    shutil.copytree(PACTS_DIR, pacts)
    with standin_broker() as broker:
        result = runner.invoke(
            app,
            ["publish", "--pacts", str(pacts), "--consumer-version", "abc123", "--branch", "main"],
            env={"PACT_BROKER_URL": broker.url},
        )
        posts = broker.received("POST", "/contracts/publish")
    assert result.exit_code == 0, result.output
    assert "for orders abc123 (branch main)" in result.output
    assert {p.body["pacticipantName"] for p in posts} == {"gateway", "notifications", "orders"}


def test_can_i_deploy_exits_by_the_brokers_verdict() -> None:
    with standin_broker() as broker:
        env = {"PACT_BROKER_URL": broker.url}
        args = ["can-i-deploy", "--pacticipant", "orders", "--version", "abc123"]
        yes = runner.invoke(app, args, env=env)
        broker.summary = {"deployable": False, "reason": "users has not verified abc123"}
        no = runner.invoke(app, args, env=env)
    assert yes.exit_code == 0, yes.output
    assert "can orders abc123 be deployed? yes" in yes.output
    assert no.exit_code == 1
    assert "users has not verified abc123" in no.output


def test_an_unreachable_broker_is_exit_code_3() -> None:
    result = runner.invoke(
        app,
        ["can-i-deploy", "--pacticipant", "orders", "--version", "1"],
        env={"PACT_BROKER_URL": "http://127.0.0.1:9"},
    )
    assert result.exit_code == 3
    assert "127.0.0.1:9" in result.output


@pytest.mark.integration
def test_verify_finds_the_pacts_the_topology_names(variants: RunningSystem, tmp_path: Path) -> None:
    users_pacts(tmp_path / "contracts")
    topology = attach_topology(tmp_path / "system.toml", variants, "users")
    topology.write_text(topology.read_text() + '\n[pipeline]\npacts = "contracts"\n')
    result = runner.invoke(
        app, ["verify", "--topology", str(topology), "--backend", "attach"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "6/6 interactions passed" in result.output
