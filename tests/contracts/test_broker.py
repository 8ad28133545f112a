"""The broker workflow against a stand-in broker that records what it receives: publishing
pacts with the consumer version and branch, verifying from the broker with consumer version
selectors and publishing the results, and can-i-deploy."""

from __future__ import annotations

import base64
import json

import pytest
from contracts_testing import pacts_for
from standin_broker import standin_broker

from harness.contracts import (
    BrokerConfig,
    BrokerError,
    BrokerVerification,
    PactFile,
    VerifyOptions,
    VersionInfo,
    can_i_deploy,
    options_for,
    publish_pacts,
    verify_provider,
)
from harness.runtime import RunningSystem
from harness.topology import Topology

VERSION = VersionInfo(number="3f2c1ab", branch="main")


def test_publishing_sends_each_consumers_pacts_with_version_and_branch(
    shop_pacts: list[PactFile],
) -> None:
    with standin_broker() as broker:
        receipts = publish_pacts(
            shop_pacts, broker=BrokerConfig(url=broker.url), version=VERSION, tags=["ci"]
        )
        posts = broker.received("POST", "/contracts/publish")

    assert [r.consumer for r in receipts] == ["gateway", "notifications", "orders"]
    assert len(posts) == 3  # one publication per consumer
    by_consumer = {post.body["pacticipantName"]: post.body for post in posts}
    orders = by_consumer["orders"]
    assert orders["pacticipantVersionNumber"] == "3f2c1ab"
    assert orders["branch"] == "main"
    assert orders["tags"] == ["ci"]
    sent = {c["providerName"]: c for c in orders["contracts"]}
    assert sorted(sent) == ["inventory", "notifications", "payments", "users"]
    inventory = sent["inventory"]
    assert (inventory["consumerName"], inventory["specification"]) == ("orders", "pact")
    original = next(p for p in shop_pacts if p.pair == "orders->inventory")
    assert base64.b64decode(inventory["content"]) == original.path.read_bytes()
    assert receipts[2].notices == ["Published 4 pact(s)"]


def test_a_broker_token_is_sent_as_a_bearer(shop_pacts: list[PactFile]) -> None:
    with standin_broker() as broker:
        config = BrokerConfig(url=broker.url, token="s3cret")
        publish_pacts(shop_pacts[:1], broker=config, version=VERSION)
        headers = broker.received("POST", "/contracts/publish")[0].headers
    assert headers["authorization"] == "Bearer s3cret"


def test_a_refused_publication_raises_with_the_brokers_answer(
    shop_pacts: list[PactFile],
) -> None:
    with standin_broker() as broker:
        broker.fail_publish = True
        with pytest.raises(BrokerError, match=r"answered 400: .*rejected by the stand-in"):
            publish_pacts(shop_pacts, broker=BrokerConfig(url=broker.url), version=VERSION)


def test_an_unreachable_broker_is_a_broker_error(shop_pacts: list[PactFile]) -> None:
    with pytest.raises(BrokerError, match=r"GET http://127\.0\.0\.1:9/"):
        publish_pacts(shop_pacts, broker=BrokerConfig(url="http://127.0.0.1:9"), version=VERSION)


def test_the_broker_config_comes_from_the_pact_environment() -> None:
    env = {"PACT_BROKER_BASE_URL": "http://broker.test/", "PACT_BROKER_TOKEN": "t"}
    assert BrokerConfig.from_env(env) == BrokerConfig(url="http://broker.test", token="t")
    assert BrokerConfig.from_env({}) is None


@pytest.mark.integration
def test_verifying_from_the_broker_uses_selectors_and_publishes_the_results(
    variants: RunningSystem, variants_topology: Topology, shop_pacts: list[PactFile]
) -> None:
    with standin_broker() as broker:
        config = BrokerConfig(url=broker.url)
        publish_pacts(pacts_for(shop_pacts, "users"), broker=config, version=VERSION)
        result = verify_provider(
            "users",
            url=variants.url("users"),
            broker=BrokerVerification(
                broker=config, provider_version=VersionInfo(number="9e8d7c6", branch="main")
            ),
            options=options_for(variants_topology, "users"),
        )
        query = broker.received("POST", "/pacts/provider/users/for-verification")
        published = broker.received("POST", "/pacts/provider/users/consumer/")

    assert result.passed, result.output
    assert {i.consumer for i in result.interactions} == {"gateway", "orders"}
    selectors = query[0].body["consumerVersionSelectors"]
    assert {"mainBranch": True} in selectors
    assert {"deployedOrReleased": True} in selectors
    assert {"matchingBranch": True} in selectors
    assert query[0].body["includePendingStatus"] is True
    assert query[0].body["providerVersionBranch"] == "main"
    assert len(published) == 2  # one result per consumer's pact
    for post in published:
        assert post.body["success"] is True
        assert post.body["providerApplicationVersion"] == "9e8d7c6"


def test_can_i_deploy_reads_the_brokers_verdict() -> None:
    with standin_broker() as broker:
        config = BrokerConfig(url=broker.url)
        yes = can_i_deploy(broker=config, pacticipant="orders", version="3f2c1ab")
        broker.summary = {"deployable": False, "reason": "users has not verified 3f2c1ab"}
        no = can_i_deploy(
            broker=config, pacticipant="orders", version="3f2c1ab", environment="production"
        )
        matrix, env_query = (r.query for r in broker.received("GET", "/matrix"))

    assert yes.deployable is True
    assert (no.deployable, no.reason) == (False, "users has not verified 3f2c1ab")
    assert matrix["q[][pacticipant]"] == ["orders"]
    assert matrix["latestby"] == ["cvp"]
    assert env_query == {  # what `pact-broker can-i-deploy --to-environment` asks
        "q[][pacticipant]": ["orders"],
        "q[][version]": ["3f2c1ab"],
        "latestby": ["cvpv"],
        "environment": ["production"],
    }
    assert json.dumps(no.summary)


@pytest.mark.integration
def test_broker_interactions_with_a_state_fail_naming_the_setting_without_a_state_route(
    variants: RunningSystem, shop_pacts: list[PactFile]
) -> None:
    with standin_broker() as broker:
        config = BrokerConfig(url=broker.url)
        publish_pacts(pacts_for(shop_pacts, "users"), broker=config, version=VERSION)
        result = verify_provider(
            "users",
            url=variants.url("users"),
            broker=BrokerVerification(
                broker=config, provider_version=VersionInfo(number="9e8d7c6", branch="main")
            ),
            options=VerifyOptions(states_path=""),
        )
    stateful = [i for i in result.interactions if i.states]
    assert stateful
    assert not result.passed
    for item in stateful:
        assert not item.passed
        assert "users declares no provider_states route" in item.mismatches[0]
