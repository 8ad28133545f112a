"""Active checks against a running system: HTTP requests, one metrics scrape, a breaker's
state, an invariant checker. Steady-state probes and HTTP/invariant assertions use them.

A check returns a `ProbeResult` with the evidence a journal keeps; `retry_until` repeats a
check every `interval` until it holds or `within` has passed (bounded retries, never an
unbounded wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from harness.chaos.invariants import (
    InvariantError,
    InvariantReport,
    invariant_report,
    resolve_invariant,
)
from harness.chaos.model import (
    BREAKER_STATES,
    BreakerProbe,
    HttpExpectation,
    HttpProbe,
    InvariantProbe,
    MetricProbe,
    Probe,
)
from harness.faults import FaultTarget
from harness.observe.metrics import MetricsError, scrape
from harness.observe.timeline import BREAKER_STATE_METRIC

__all__ = [
    "ChaosSystem",
    "ProbeContext",
    "ProbeResult",
    "check_http",
    "check_invariant",
    "retry_until",
    "run_probe",
]


class ChaosSystem(FaultTarget, Protocol):
    """What the chaos runner needs of `harness.runtime.RunningSystem`."""

    def url(self, service: str) -> str: ...

    @property
    def services(self) -> Mapping[str, Any]: ...

    @property
    def edges(self) -> Mapping[str, Any]: ...


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


@dataclass(slots=True)
class ProbeContext:
    """Everything a check needs: the system, one HTTP client, where invariant files live
    and the keywords invariant checkers may ask for (`initial_stock`, `seed`)."""

    system: ChaosSystem
    client: httpx.Client
    base_dir: Path
    invariant_context: dict[str, Any] = field(default_factory=dict)


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


def _check_metric(probe: MetricProbe, ctx: ProbeContext) -> ProbeResult:
    url = ctx.system.url(probe.service).rstrip("/") + "/metrics"
    try:
        snapshot = scrape(url, client=ctx.client)
    except MetricsError as exc:
        return ProbeResult(False, str(exc))
    value = snapshot.value(probe.metric, **probe.labels)
    what = probe.describe_metric()
    bound = probe.describe_comparison()
    if value is None:
        return ProbeResult(False, f"{what}: no such series", {"url": url})
    ok = probe.compare(value)
    evidence = {"url": url, "value": value}
    return ProbeResult(ok, f"{what} = {value:g}, expected {bound}", evidence)


def _check_breaker(probe: BreakerProbe, ctx: ProbeContext) -> ProbeResult:
    source, _, target = probe.breaker.partition("->")
    url = ctx.system.url(source).rstrip("/") + "/metrics"
    try:
        snapshot = scrape(url, client=ctx.client)
    except MetricsError as exc:
        return ProbeResult(False, str(exc))
    value = snapshot.value(BREAKER_STATE_METRIC, dependency=target)
    names = {code: name for name, code in BREAKER_STATES.items()}
    if value is None:
        # A breaker that has never been used may not have exported its gauge yet: closed.
        value = 0.0
    state = names.get(int(value), f"unknown ({value:g})")
    ok = state == probe.state
    return ProbeResult(
        ok, f"breaker {probe.breaker} is {state}, expected {probe.state}", {"value": value}
    )


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


def check_once(probe: Probe, ctx: ProbeContext) -> ProbeResult:
    if isinstance(probe, HttpProbe):
        return check_http(probe, ctx)
    if isinstance(probe, MetricProbe):
        return _check_metric(probe, ctx)
    if isinstance(probe, BreakerProbe):
        return _check_breaker(probe, ctx)
    assert isinstance(probe, InvariantProbe)
    return check_invariant(probe.invariant, probe.rules, ctx)


def retry_until(
    check: Callable[[], ProbeResult],
    *,
    within: float,
    interval: float,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> ProbeResult:
    """Run `check` until it holds or `within` seconds passed; at least once."""
    deadline = monotonic() + within
    attempts = 0
    while True:
        attempts += 1
        result = check()
        if result.ok or monotonic() + interval > deadline or should_stop():
            return ProbeResult(result.ok, result.summary, result.evidence, attempts, result.at)
        sleep(interval)


def run_probe(
    probe: Probe, ctx: ProbeContext, *, should_stop: Callable[[], bool] = lambda: False
) -> ProbeResult:
    """One steady-state probe, retried up to its `within`."""
    return retry_until(
        lambda: check_once(probe, ctx),
        within=probe.within,
        interval=probe.interval,
        should_stop=should_stop,
    )
