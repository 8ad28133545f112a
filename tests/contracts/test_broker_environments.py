"""Environments in the broker workflow, against the stand-in broker over real HTTP:
record-deployment and record-release through the version's per-environment links,
can-i-deploy to an environment, and asking again while a provider is still verifying.

The stand-in's shape is checked against the official Pact CLI (npm
`@pact-foundation/pact-cli`, or PyPI `pact-python-cli`) when one is installed: the same
commands must succeed against it and leave the same records."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from contracts_testing import pacts_for
from standin_broker import BrokerState, standin_broker

from harness.contracts import (
    BrokerConfig,
    BrokerError,
    PactFile,
    VersionInfo,
    can_i_deploy,
    publish_pacts,
    record_deployment,
    record_release,
)

ORDERS = VersionInfo(number="3f2c1ab", branch="main")


def published(broker: BrokerState, pacts: list[PactFile]) -> BrokerConfig:
    config = BrokerConfig(url=broker.url)
    publish_pacts(pacts_for(pacts, "payments"), broker=config, version=ORDERS)
    return config


def test_record_deployment_posts_to_the_environments_link_of_the_version(
    shop_pacts: list[PactFile],
) -> None:
    with standin_broker() as broker:
        config = published(broker, shop_pacts)
        record = record_deployment(
            broker=config,
            pacticipant="orders",
            version=ORDERS.number,
            environment="production",
            application_instance="eu-1",
        )
        post = broker.received("POST", "/pacticipants/orders/versions/3f2c1ab/")[0]
        production = broker.environments["production"]

    assert post.path.endswith(f"/deployed-versions/environment/{production}")
    assert post.body == {"applicationInstance": "eu-1"}
    assert [(d["pacticipant"], d["version"], d["environment"]) for d in broker.deployed] == [
        ("orders", "3f2c1ab", "production")
    ]
    assert (record.kind, record.environment, record.application_instance) == (
        "deployment",
        "production",
        "eu-1",
    )
    assert str(record.url).startswith(broker.url)


def test_record_release_posts_to_released_versions(shop_pacts: list[PactFile]) -> None:
    with standin_broker() as broker:
        config = published(broker, shop_pacts)
        record = record_release(
            broker=config, pacticipant="orders", version=ORDERS.number, environment="test"
        )
        post = broker.received("POST", "/pacticipants/orders/")[0]
    assert post.path.endswith(f"/released-versions/environment/{broker.environments['test']}")
    assert post.body == {}
    assert record.kind == "release"
    assert [(r["version"], r["environment"]) for r in broker.released] == [("3f2c1ab", "test")]
    assert broker.deployed == []


def test_an_unknown_environment_names_the_known_ones(shop_pacts: list[PactFile]) -> None:
    with standin_broker() as broker:
        config = published(broker, shop_pacts)
        with pytest.raises(
            BrokerError, match=r"no environment 'staging' \(known: production, test\)"
        ):
            record_deployment(
                broker=config, pacticipant="orders", version=ORDERS.number, environment="staging"
            )
    assert broker.deployed == []


def test_a_version_the_broker_never_saw_says_publish_first() -> None:
    unknown_version = r"no version 9a9a9a9 of orders: publish its pacts"
    with standin_broker() as broker, pytest.raises(BrokerError, match=unknown_version):
        record_deployment(
            broker=BrokerConfig(url=broker.url),
            pacticipant="orders",
            version="9a9a9a9",
            environment="test",
        )


def test_can_i_deploy_asks_again_while_the_answer_is_unknown() -> None:
    waits: list[float] = []
    with standin_broker() as broker:
        broker.unknown_answers = 2  # the provider's verification arrives after two questions
        verdict = can_i_deploy(
            broker=BrokerConfig(url=broker.url),
            pacticipant="orders",
            version="3f2c1ab",
            environment="production",
            retry_while_unknown=5,
            retry_interval=0.5,
            sleep=waits.append,
        )
        asked = broker.received("GET", "/matrix")
    assert (verdict.deployable, verdict.unknown, verdict.asked) == (True, False, 3)
    assert len(asked) == 3
    assert waits == [0.5, 0.5]
    assert verdict.environment == "production"


def test_can_i_deploy_gives_up_after_its_retries_and_answers_unknown() -> None:
    waits: list[float] = []
    with standin_broker() as broker:
        broker.unknown_answers = 10
        verdict = can_i_deploy(
            broker=BrokerConfig(url=broker.url),
            pacticipant="orders",
            version="3f2c1ab",
            retry_while_unknown=2,
            retry_interval=1,
            sleep=waits.append,
        )
    assert (verdict.deployable, verdict.unknown, verdict.asked) == (None, True, 3)
    assert waits == [1, 1]
    assert verdict.reason == "Missing one or more required verification results"


def test_can_i_deploy_does_not_retry_a_known_no() -> None:
    with standin_broker() as broker:
        broker.summary = {"deployable": False, "reason": "no", "unknown": 0}
        verdict = can_i_deploy(
            broker=BrokerConfig(url=broker.url),
            pacticipant="orders",
            version="1",
            retry_while_unknown=3,
            sleep=lambda _: pytest.fail("a known answer is not asked again"),
        )
    assert (verdict.deployable, verdict.asked) == (False, 1)


def _official_cli() -> list[str] | None:
    """The Pact CLI's broker command: $PACT_BROKER_CLI, else `pact-broker` (npm) on PATH,
    else `pact broker` (PyPI pact-python-cli, the `interop` extra) beside this Python."""
    given = os.environ.get("PACT_BROKER_CLI") or shutil.which("pact-broker")
    if given:
        return [given]
    beside = Path(sys.executable).parent / "pact"
    found = shutil.which("pact") or (str(beside) if beside.exists() else None)
    return [found, "broker"] if found else None


@pytest.mark.skipif(
    _official_cli() is None,
    reason="the official Pact CLI is not installed (pip install -e '.[interop]', or npm i "
    "@pact-foundation/pact-cli and PACT_BROKER_CLI=node_modules/.bin/pact-broker)",
)
def test_the_official_pact_cli_drives_the_standin_broker_as_the_harness_does(
    shop_pacts: list[PactFile],
) -> None:
    cli = _official_cli()
    assert cli is not None
    with standin_broker() as broker:
        config = published(broker, shop_pacts)
        broker.unknown_answers = 1

        def pact_broker(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*cli, *args, "--broker-base-url", broker.url],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        deployed = pact_broker(
            "record-deployment", "--pacticipant", "orders", "--version", "3f2c1ab",
            "--environment", "production",
        )  # fmt: skip
        released = pact_broker(
            "record-release", "--pacticipant", "orders", "--version", "3f2c1ab",
            "--environment", "test",
        )  # fmt: skip
        cli_asks = pact_broker(
            "can-i-deploy", "--pacticipant", "orders", "--version", "3f2c1ab",
            "--to-environment", "production", "--retry-while-unknown", "2",
            "--retry-interval", "0",
        )  # fmt: skip
        cli_queries = [r.query for r in broker.received("GET", "/matrix")]
        harness_verdict = can_i_deploy(
            broker=config, pacticipant="orders", version="3f2c1ab", environment="production"
        )
        harness_query = broker.received("GET", "/matrix")[-1].query

    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert released.returncode == 0, released.stdout + released.stderr
    assert cli_asks.returncode == 0, cli_asks.stdout + cli_asks.stderr
    assert [(d["version"], d["environment"]) for d in broker.deployed] == [
        ("3f2c1ab", "production")
    ]
    assert [(r["version"], r["environment"]) for r in broker.released] == [("3f2c1ab", "test")]
    assert len(cli_queries) == 2  # once unknown, then known
    assert harness_query == cli_queries[-1]
    assert harness_verdict.deployable is True
