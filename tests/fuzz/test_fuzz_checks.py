"""The harness's own checks, on answers built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from harness.fuzz.checks import replay_mismatch

ORDER = {"id": 7, "status": "cancelled", "total_cents": 100}


@pytest.mark.parametrize(
    ("first_status", "first", "replay_status", "replay"),
    [
        (201, {"id": 1, "name": "a"}, 200, {"id": 1, "name": "a"}),
        (201, {"id": 1, "name": "a"}, 201, {"id": 1, "name": "a"}),
        (
            422,
            {"error": "x", "detail": [], "request_id": "r1"},
            422,
            {
                "error": "x",
                "detail": [],
                "request_id": "r2",
            },
        ),
        (402, {"error": "card_declined", "detail": "no", "order": ORDER}, 200, ORDER),
        (
            402,
            {"error": "card_declined", "payment": ORDER},
            402,
            {
                "error": "card_declined",
                "payment": ORDER,
            },
        ),
    ],
)
def test_a_replay_with_the_same_result_passes(
    first_status: int, first: Any, replay_status: int, replay: Any
) -> None:
    assert replay_mismatch(first_status, first, replay_status, replay) is None


@pytest.mark.parametrize(
    ("first_status", "first", "replay_status", "replay", "reason"),
    [
        (201, {"id": 1}, 201, {"id": 2}, "body differs"),
        (201, {"id": 1}, 409, {"error": "conflict"}, "first request got 201, the replay 409"),
        (422, {"error": "x"}, 500, {"error": "internal"}, "replay failed (500)"),
        (402, {"error": "declined", "order": ORDER}, 200, {**ORDER, "id": 8}, "not the resource"),
        (200, {"id": 1}, 201, {"id": 1}, "first request got 200, the replay 201"),
    ],
)
def test_a_replay_with_another_result_is_named(
    first_status: int, first: Any, replay_status: int, replay: Any, reason: str
) -> None:
    problem = replay_mismatch(first_status, first, replay_status, replay)
    assert problem is not None
    assert reason in problem


def test_the_error_body_check_is_on_only_with_declared_keys() -> None:
    from harness.fuzz import standard_checks

    assert "error_body_shape" not in standard_checks(idempotency_header="K")
    declared = standard_checks(idempotency_header="K", error_fields=("message",))
    assert declared["error_body_shape"] == {"active": True, "fields": ["message"]}


def test_fuzz_checks_switch_schemathesis_and_harness_checks() -> None:
    from harness.fuzz.config import service_checks

    table = service_checks(
        {"keyed_replay": {"active": True, "header": "K"}},
        {"keyed_replay": False, "ignored_auth": False, "not_a_server_error": True},
    )
    assert table["keyed_replay"] == {"active": False, "header": "K", "enabled": False}
    assert table["ignored_auth"] == {"enabled": False}
    assert table["not_a_server_error"] == {"enabled": True}


@pytest.mark.parametrize(
    ("switches", "message"),
    [
        ({"no_such_check": True}, "unknown check 'no_such_check'; checks are: "),
        ({"error_body_shape": True}, "no error_body keys are declared"),
    ],
)
def test_a_switch_that_cannot_apply_is_refused(switches: dict[str, bool], message: str) -> None:
    from harness.fuzz.config import FuzzConfigError, service_checks

    with pytest.raises(FuzzConfigError, match=message):
        service_checks({}, switches)


def test_where_the_document_is_comes_from_the_conventions_then_the_run() -> None:
    from harness.fuzz.discovery import document_location
    from harness.topology import parse_topology

    topology = parse_topology(
        {
            "conventions": {"openapi": "/v3/api-docs"},
            "services": {
                "a": {"url": "http://127.0.0.1:9"},
                "b": {"url": "http://127.0.0.1:9", "conventions": {"openapi": ""}},
            },
        }
    )
    bare = parse_topology({"services": {"c": {"url": "http://127.0.0.1:9"}}})
    assert document_location(topology, "a").path == "/v3/api-docs"
    assert document_location(topology, "a").declared_by == "the `openapi` convention"
    assert document_location(topology, "b").path == ""
    assert document_location(topology, "a", {"a": "/x.json"}).declared_by == "--openapi-path"
    assert document_location(bare, "c").path == "/openapi.json"
    assert document_location(bare, "c").declared_by is None
