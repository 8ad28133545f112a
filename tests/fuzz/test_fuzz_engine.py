"""The fuzzing engine on the toy caller, in-process: it finds each planted bug, names a
command that reproduces it, and the same seed sends the same requests."""

from __future__ import annotations

import pytest
from toy_apps import toy_front

from harness.fuzz import (
    ALL_PHASES,
    PassResult,
    PassSettings,
    build_config,
    fault_checks,
    load_app_schema,
    run_pass,
    standard_checks,
)

RERUN = "harness fuzz run -t toy.toml --service front --seed 3 --max-examples 8"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused
ERROR_BODY = ("error", "detail")  # the toy front's error body (toy_front.py)


def toy_pass(*, seed: int = 3, checks: dict[str, object] | None = None) -> PassResult:
    settings = PassSettings(
        seed=seed,
        max_examples=8,
        phases=ALL_PHASES,
        checks=checks
        or standard_checks(idempotency_header="Idempotency-Key", error_fields=ERROR_BODY),
    )
    front = toy_front()
    front.reset()
    schema = load_app_schema(front.app, config=build_config(settings))
    return run_pass(schema, service="front", rerun=RERUN)


def outage_checks() -> dict[str, object]:
    return fault_checks(
        edge="front->back",
        idempotency_header="Idempotency-Key",
        outage_statuses=(503,),
        error_fields=ERROR_BODY,
    )


@pytest.fixture
def back_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACK_URL", UNREACHABLE)


@pytest.mark.usefixtures("back_unreachable")
def test_a_keyed_post_that_does_not_replay_is_found_with_a_curl_that_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOY_REPLAY_BUG", "1")
    result = toy_pass(checks=outage_checks())
    [failure] = [f for f in result.failures if f.check == "keyed_replay"]
    assert failure.operation == "POST /greetings"
    assert "the replay's body differs" in failure.message
    assert failure.reproduce.startswith("curl -X POST")
    assert "-H 'Idempotency-Key: " in failure.reproduce  # the key itself, not "[Filtered]"
    assert "[Filtered]" not in failure.reproduce
    assert failure.rerun == RERUN


@pytest.mark.usefixtures("back_unreachable")
def test_a_500_while_a_dependency_is_unreachable_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_OUTAGE_BUG", "1")
    result = toy_pass(checks=outage_checks())
    failures = [f for f in result.failures if f.check == "dependency_outage_answer"]
    assert [f.operation for f in failures] == ["GET /welcome/{name}"]
    assert "with front->back partitioned, GET /welcome/{name} answered 500" in failures[0].message
    assert failures[0].reproduce.startswith("curl -X GET")


@pytest.mark.usefixtures("back_unreachable")
def test_the_toy_without_its_bugs_passes_every_check() -> None:
    result = toy_pass(checks=outage_checks())
    assert result.passed, [f.message for f in result.failures] + result.errors
    figures = result.figures
    assert figures.operations_covered == figures.operations_total == 3
    assert result.answers["GET /welcome/{name}"][503] > 0  # the outage path was taken
    assert result.checks_run["keyed_replay"] > 0
    assert result.checks_run["error_body_shape"] > 0
    assert result.checks_run["dependency_outage_answer"] > 0


@pytest.mark.usefixtures("back_unreachable")
def test_the_same_seed_sends_the_same_requests() -> None:
    first, again, other = toy_pass(seed=3), toy_pass(seed=3), toy_pass(seed=4)
    assert first.fingerprint == again.fingerprint
    assert first.figures == again.figures
    assert other.fingerprint != first.fingerprint
