"""Steady-state probes: an HTTP request, one metrics scrape, a breaker's state (read as
the topology's breaker convention says), an invariant checker.

The HTTP and invariant checks are the assertion engine's (`harness.assertions.probing`);
`retry_until` repeats a check every `interval` until it holds or `within` has passed
(bounded retries, never an unbounded wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.assertions.kinds.breaker import describe_series, missing_convention
from harness.assertions.probing import (
    ProbeContext,
    ProbeResult,
    check_http,
    check_invariant,
)
from harness.chaos.model import (
    BreakerProbe,
    HttpProbe,
    InvariantProbe,
    MetricProbe,
    Probe,
)
from harness.observe.breakers import read_breaker
from harness.observe.metrics import MetricsError, scrape
from harness.system import RunningSystemLike

__all__ = [
    "ChaosSystem",
    "ProbeContext",
    "ProbeResult",
    "check_http",
    "check_invariant",
    "retry_until",
    "run_probe",
]


# What the chaos runner drives (harness.system keeps the one hierarchy).
ChaosSystem = RunningSystemLike


def _metrics_url(service: str, ctx: ProbeContext) -> str:
    path = ctx.conventions(service).metrics or "/metrics"
    return str(ctx.system.url(service)).rstrip("/") + path


def _check_metric(probe: MetricProbe, ctx: ProbeContext) -> ProbeResult:
    url = _metrics_url(probe.service, ctx)
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
    source, target = probe.breaker.source, probe.breaker.target
    convention = ctx.conventions(source).breaker
    if convention is None:
        return ProbeResult(False, missing_convention(source))
    try:
        reading = read_breaker(
            _metrics_url(source, ctx), convention, source, target, client=ctx.client
        )
    except MetricsError as exc:
        return ProbeResult(False, str(exc))
    state, value, labels = reading.state, reading.value, reading.labels
    ok = state == probe.state
    return ProbeResult(
        ok,
        f"breaker {probe.breaker} is {state}, expected {probe.state}",
        {"value": value, "series": describe_series(convention.metric, labels)},
    )


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
