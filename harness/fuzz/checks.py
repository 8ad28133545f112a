"""The harness's own schemathesis checks, on top of schemathesis' built-in ones.

* `error_body_shape`: every 4xx/5xx answer is a JSON object with the keys a service
  declares in its `error_body` convention (on only where some are declared).
* `keyed_replay`: sending a keyed request (`Idempotency-Key`) again gives the same result.
* `dependency_outage_answer`: while one of its dependencies is partitioned away, a service
  answers 503 (or a documented degraded answer), never another 5xx.

schemathesis registers checks process-wide, so each one stays inert until a schema's
configuration turns it on (`[checks.error_body_shape] active = true`, which
`harness.fuzz.config` does). Other schemathesis users in the same process, e.g. another
team's pytest module, are not affected by importing this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

__all__ = [
    "DEFAULT_IDEMPOTENCY_HEADER",
    "DEFAULT_OUTAGE_STATUSES",
    "HARNESS_CHECKS",
    "dependency_outage_answer",
    "error_body_shape",
    "keyed_replay",
]

DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_OUTAGE_STATUSES = (503,)
# Fields every answer may carry that differ from one request to the next.
VOLATILE_FIELDS = frozenset({"request_id"})
# "Try again later" answers: a replay may get another one, or the real result.
TRANSIENT_STATUSES = frozenset({429, 503})

SKIPPED = True  # a check returning True tells schemathesis it did not apply


def _json_body(response: Response) -> tuple[bool, Any]:
    try:
        return True, json.loads(response.content)
    except ValueError:
        return False, None


@schemathesis.check
class error_body_shape:  # snake_case: the check's name, like the built-in ones
    """Every error answer (status >= 400) is a JSON object with `fields`.

    Config (`[checks.error_body_shape]`): `active` (false), `fields` (the service's
    `error_body` convention; none: the check does not apply).
    """

    def __init__(self, *, active: bool = False, fields: Sequence[str] = ()):
        self.active = active
        self.fields = tuple(fields)

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if (
            not self.active
            or not self.fields
            or response.status_code < 400
            or case.method.upper() == "HEAD"
        ):
            return SKIPPED
        parsed, body = _json_body(response)
        status = response.status_code
        if not parsed:
            raise AssertionError(f"the {status} answer is not JSON: {response.content[:200]!r}")
        if not isinstance(body, dict):
            raise AssertionError(f"the {status} answer is JSON but not an object: {body!r:.200}")
        missing = [name for name in self.fields if name not in body]
        if missing:
            raise AssertionError(
                f"the {status} answer lacks {', '.join(missing)}; every error answer carries "
                f"{', '.join(self.fields)} (the service's error_body convention). "
                f"Got: {json.dumps(body)[:300]}"
            )
        return None


def _header(case: Case[Any], name: str) -> str | None:
    for key, value in (case.headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _without_volatile(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if key not in VOLATILE_FIELDS}
    return body


def _embedded_resource(body: Any) -> Mapping[str, Any] | None:
    """The resource an error answer carries (`{"error": ..., "order": {"id": 7, ...}}`)."""
    if not isinstance(body, dict):
        return None
    resources = [value for value in body.values() if isinstance(value, dict) and "id" in value]
    return resources[0] if len(resources) == 1 else None


def replay_mismatch(
    first_status: int, first_body: Any, replay_status: int, replay_body: Any
) -> str | None:
    """Why a replay's answer is not "the same result" (None when it is).

    The same result is: the same status and body (`request_id` aside); or, for a first
    answer that created something (201), 200 with the same body; or, for an error answer
    that carries the resource it made (a declined payment, a cancelled order), 200 with
    that resource. A transient first answer (429, 503) without a resource is not a result.
    """
    first, replay = _without_volatile(first_body), _without_volatile(replay_body)
    if replay_status == first_status and replay == first:
        return None
    if 200 <= first_status < 300 and replay_status in (first_status, 200) and replay == first:
        return None
    resource = _embedded_resource(first) if first_status >= 400 else None
    if resource is not None and replay_status == 200:
        if replay == resource:
            return None
        return "the replay's body is not the resource the first answer carried"
    if replay_status >= 500 or replay_status == 429:
        return f"the replay failed ({replay_status}) where the first request got {first_status}"
    if replay_status != first_status and not (first_status == 201 and replay_status == 200):
        return f"the first request got {first_status}, the replay {replay_status}"
    return "the replay's body differs from the first answer's"


@schemathesis.check
class keyed_replay:
    """Sending a keyed request again (same key, same body) gives the same result.

    Applies to requests other than GET/HEAD/OPTIONS that carry the `header`. The request is
    sent a second time right after the first answer; see `replay_mismatch` for "the same".
    Config (`[checks.keyed_replay]`): `active` (false), `header` ("Idempotency-Key").
    """

    def __init__(self, *, active: bool = False, header: str = DEFAULT_IDEMPOTENCY_HEADER):
        self.active = active
        self.header = header

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if not self.active or case.method.upper() in ("GET", "HEAD", "OPTIONS"):
            return SKIPPED
        key = _header(case, self.header)
        if key is None:
            return SKIPPED
        parsed, first_body = _json_body(response)
        if not parsed:
            first_body = response.content
        if response.status_code in TRANSIENT_STATUSES and _embedded_resource(first_body) is None:
            return SKIPPED
        replay = case.call(**_transport_kwargs(ctx, case))
        parsed, replay_body = _json_body(replay)
        if not parsed:
            replay_body = replay.content
        problem = replay_mismatch(response.status_code, first_body, replay.status_code, replay_body)
        if problem is not None:
            raise AssertionError(
                f"{problem} ({self.header}: {key}; send the request twice to see it).\n"
                f"first:  {response.status_code} {_short(first_body)}\n"
                f"replay: {replay.status_code} {_short(replay_body)}"
            )
        return None


def _transport_kwargs(ctx: CheckContext, case: Case[Any]) -> dict[str, Any]:
    # The replay must reach the same server with the same session (auth, headers) as the
    # first request. schemathesis keeps those in the check context's internals, which its
    # own re-sending checks use too; outside an engine run (pytest) they may be absent.
    kwargs = dict(ctx.internals.transport_kwargs or {})
    if case.operation.app is not None:
        kwargs.setdefault("app", case.operation.app)
    return kwargs


def _short(body: Any) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else json.dumps(body)
    return text if len(text) <= 300 else text[:300] + "..."


@schemathesis.check
class dependency_outage_answer:
    """With `edge` partitioned, a 5xx answer must be one of `statuses` (503 by default).

    A 2xx/4xx answer is judged by the other checks (a documented degraded answer passes
    the response-schema check). Config (`[checks.dependency_outage_answer]`): `active`
    (false), `edge` ("orders->payments", for the message), `statuses` ([503]).
    """

    def __init__(
        self,
        *,
        active: bool = False,
        edge: str = "",
        statuses: Sequence[int] = DEFAULT_OUTAGE_STATUSES,
    ):
        self.active = active
        self.edge = edge
        self.statuses = frozenset(statuses)

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if not self.active or response.status_code < 500:
            return SKIPPED
        if response.status_code not in self.statuses:
            allowed = " or ".join(str(s) for s in sorted(self.statuses))
            raise AssertionError(
                f"with {self.edge or 'a dependency'} partitioned, {case.operation.label} "
                f"answered {response.status_code}; a caller must answer {allowed} (or its "
                "documented degraded answer) when a dependency is unavailable, never another 5xx"
            )
        return None


HARNESS_CHECKS = ("error_body_shape", "keyed_replay", "dependency_outage_answer")
