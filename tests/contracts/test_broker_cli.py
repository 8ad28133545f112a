"""`harness contracts record-deployment / record-release / can-i-deploy --to-environment`
against the stand-in broker: exit codes, what they print, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from standin_broker import standin_broker
from typer.testing import CliRunner

from harness.contracts.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PACT_BROKER_URL", "PACT_BROKER_BASE_URL", "PACT_BROKER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")


def test_record_deployment_then_can_i_deploy_to_that_environment() -> None:
    with standin_broker() as broker:
        broker.versions.add(("orders", "abc123"))
        env = {"PACT_BROKER_URL": broker.url}
        recorded = runner.invoke(
            app,
            ["record-deployment", "-a", "orders", "-e", "abc123", "--environment", "production"],
            env=env,
        )
        asked = runner.invoke(
            app,
            ["can-i-deploy", "-a", "orders", "-e", "abc123", "--to-environment", "production"],
            env=env,
        )
        query = broker.received("GET", "/matrix")[0].query
    assert recorded.exit_code == 0, recorded.output
    assert "recorded deployment of orders abc123 to production" in recorded.output
    assert broker.deployed[0]["environment"] == "production"
    assert asked.exit_code == 0, asked.output
    assert "can orders abc123 be deployed to production? yes" in asked.output
    assert query["environment"] == ["production"]


def test_record_release_prints_what_was_recorded() -> None:
    with standin_broker() as broker:
        broker.versions.add(("mobile", "2.1.0"))
        result = runner.invoke(
            app,
            ["record-release", "--pacticipant", "mobile", "--version", "2.1.0",
             "--environment", "test", "--broker-url", broker.url],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "recorded release of mobile 2.1.0 to test" in result.output
    assert broker.released[0]["version"] == "2.1.0"


def test_an_unknown_environment_is_exit_code_3_naming_the_known_ones() -> None:
    with standin_broker() as broker:
        broker.versions.add(("orders", "abc123"))
        result = runner.invoke(
            app,
            ["record-deployment", "-a", "orders", "-e", "abc123", "--environment", "staging"],
            env={"PACT_BROKER_URL": broker.url},
        )
    assert result.exit_code == 3
    assert "no environment 'staging' (known: production, test)" in result.output
    assert "create-environment --name staging" in result.output


def test_record_deployment_needs_a_broker_and_an_environment() -> None:
    no_broker = runner.invoke(app, ["record-deployment", "-a", "orders", "-e", "1",
                                    "--environment", "test"])  # fmt: skip
    no_environment = runner.invoke(
        app, ["record-deployment", "-a", "orders", "-e", "1", "--broker-url", "http://x"]
    )
    assert no_broker.exit_code == 2
    assert "PACT_BROKER_URL" in no_broker.output
    assert no_environment.exit_code == 2
    assert "--environment" in no_environment.output


def test_can_i_deploy_retries_while_unknown_and_says_how_often_it_asked() -> None:
    with standin_broker() as broker:
        broker.unknown_answers = 2
        args = ["can-i-deploy", "-a", "orders", "-e", "abc123", "--to-environment", "test",
                "--retry-while-unknown", "3", "--retry-interval", "0.05"]  # fmt: skip
        result = runner.invoke(app, args, env={"PACT_BROKER_URL": broker.url})
    assert result.exit_code == 0, result.output
    assert "yes" in result.output
    assert "(asked 3 times)" in result.output
    assert "unknown yet (Missing one or more required verification results); asking again in " in (
        result.output
    )
    assert "0.05s (2 of 4)" in result.output


def test_can_i_deploy_still_unknown_after_its_retries_exits_1() -> None:
    with standin_broker() as broker:
        broker.unknown_answers = 5
        args = ["can-i-deploy", "-a", "orders", "-e", "abc123",
                "--retry-while-unknown", "1", "--retry-interval", "0"]  # fmt: skip
        result = runner.invoke(app, args, env={"PACT_BROKER_URL": broker.url})
    assert result.exit_code == 1
    assert "unknown: Missing one or more required verification results" in result.output
    assert len(broker.received("GET", "/matrix")) == 2
