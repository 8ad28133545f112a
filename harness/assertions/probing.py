"""Active checks against a running system: an HTTP request, an invariant checker.

Steady-state probes (`harness.chaos.probes`) and the `http` and `invariant` assertion
kinds call them; each answers with a `ProbeResult` holding the evidence a journal keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from harness.assertions.invariants import (
    InvariantError,
    InvariantReport,
    invariant_report,
    resolve_invariant,
)
from harness.faults import Seconds
from harness.system import ServiceUrls
from harness.topology import ResolvedConventions
from harness.traffic.spec import HttpMethod, RequestPath, Statuses, status_list

__all__ = [
    "HttpExpectation",
    "HttpRequest",
    "ProbeContext",
    "ProbeResult",
    "ServiceUrls",
    "check_http",
    "check_invariant",
    "status_list",
]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 1
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "attempts": self.attempts,
            "at": self.at,
            "evidence": dict(self.evidence),
        }


def _no_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions()


@dataclass(slots=True)
class ProbeContext:
    """Everything a check needs: the system, one HTTP client, where invariant files live,
    the keywords invariant checkers may ask for (`initial_stock`, `seed`), and each
    service's conventions (where its metrics are, how its breakers show)."""

    system: Any
    client: httpx.Client
    base_dir: Path
    invariant_context: dict[str, Any] = field(default_factory=dict)
    conventions: Callable[[str], ResolvedConventions] = _no_conventions


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpRequest(_Model):
    """One HTTP request to a service (its direct URL, not through a proxy)."""

    service: str
    method: HttpMethod = "GET"
    path: RequestPath = "/health"
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    token: str | None = Field(default=None, description="sent as `Authorization: Bearer`")
    timeout: Seconds = 2.0

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HttpExpectation(_Model):
    http: HttpRequest
    status: Statuses = Field(default_factory=lambda: [200])
    json_contains: dict[str, Any] = Field(
        default_factory=dict, description="keys (dotted for nesting) the JSON body must have"
    )


def check_http(check: HttpExpectation, ctx: ProbeContext) -> ProbeResult:
    request = check.http
    url = ctx.system.url(request.service).rstrip("/") + request.path
    headers = dict(request.headers)
    if request.token:
        headers["Authorization"] = f"Bearer {request.token}"
    began = time.perf_counter()
    try:
        response = ctx.client.request(
            request.method, url, headers=headers, json=request.json_body, timeout=request.timeout
        )
    except httpx.HTTPError as exc:
        return ProbeResult(False, f"{request.method} {url}: {type(exc).__name__}: {exc}")
    latency = time.perf_counter() - began
    evidence: dict[str, Any] = {
        "url": url,
        "status": response.status_code,
        "latency": round(latency, 4),
        "body": response.text[:500],
    }
    if response.status_code not in check.status:
        expected = ", ".join(map(str, check.status))
        return ProbeResult(
            False,
            f"{request.method} {url} -> {response.status_code}, expected {expected}",
            evidence,
        )
    mismatch = _json_mismatch(response, check.json_contains)
    if mismatch:
        return ProbeResult(False, f"{request.method} {url}: {mismatch}", evidence)
    return ProbeResult(True, f"{request.method} {url} -> {response.status_code}", evidence)


def _json_mismatch(response: httpx.Response, expected: Mapping[str, Any]) -> str | None:
    if not expected:
        return None
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    for dotted, want in expected.items():
        value: Any = body
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return f"JSON body has no {dotted!r}"
            value = value[part]
        if value != want:
            return f"JSON {dotted!r} is {value!r}, expected {want!r}"
    return None


def check_invariant(reference: str, rules: list[str] | None, ctx: ProbeContext) -> ProbeResult:
    try:
        check = resolve_invariant(reference, base_dir=ctx.base_dir)
        report = invariant_report(check, ctx.system, ctx.invariant_context)
    except InvariantError as exc:
        return ProbeResult(False, str(exc))
    except Exception as exc:  # a checker that crashes is a failed check, with the reason
        return ProbeResult(False, f"invariant {reference} raised {type(exc).__name__}: {exc}")
    return _invariant_result(report.only(rules), rules)


def _invariant_result(report: InvariantReport, rules: list[str] | None) -> ProbeResult:
    scope = f" ({', '.join(rules)})" if rules else ""
    if report.ok:
        return ProbeResult(True, f"invariants hold{scope}: {report.summary()}", report.to_dict())
    count = len(report.violations)
    first = report.summary(limit=3).replace("\n", "; ")
    return ProbeResult(False, f"{count} violation(s){scope}: {first}", report.to_dict())
