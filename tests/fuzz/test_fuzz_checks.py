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
