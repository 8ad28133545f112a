"""The JSON summary of a load run (what CI reads) and the figures derived for it.

Everything the HTML report shows in tables comes from here too, so the report and the
JSON never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.assertions import Check, FaultWindow
from harness.faults import TimelineEvent
from harness.load.profile import Benchmark, LoadProfile
from harness.load.results import TOTAL, ErrorStats, LocustResult, RequestStats, percentile
from harness.schemas import DOCUMENTS, UtcTime, check_version

__all__ = [
    "SUMMARY_VERSION",
    "BenchmarkFigures",
    "CpuFigures",
    "FaultWindowFigures",
    "LoadSummary",
    "RequestRow",
    "StageFigures",
    "benchmark_check",
    "benchmark_figures",
    "request_rows",
]


#: Version 2: `summary_version`, ISO 8601 UTC times, Locust's own report and CSV paths.
SUMMARY_VERSION = DOCUMENTS["summary"].current


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RequestRow(_Model):
    """One line of the per-request table."""

    key: str
    requests: int
    failures: int
    failure_ratio: float
    rps: float
    avg_ms: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float


class StageFigures(_Model):
    """One stage of a stepped profile, measured after its ramp-up settled."""

    index: int
    users: int
    start_s: float = Field(description="measured window start, seconds since load start")
    end_s: float
    rps: float = Field(description="all requests per second")
    request_rps: float = Field(description="successful benchmark requests per second")
    p95_ms: float | None
    failure_ratio: float
    met: bool


class BenchmarkFigures(_Model):
    request: str
    p95_limit_ms: float
    max_failure_ratio: float
    sustainable_rps: float | None = Field(
        description="highest stage rate of successful `request`s that met the bounds"
    )
    at_users: int | None
    stages: list[StageFigures]


class CpuFigures(_Model):
    """CPU seconds (user + system) used during the run, per group of processes."""

    wall_s: float
    load_generator_s: float
    system_under_test_s: float
    fault_proxy_s: float = Field(
        default=0.0, description="the embedded fault proxy every edge's traffic goes through"
    )

    @property
    def load_generator_cores(self) -> float:
        return self.load_generator_s / self.wall_s if self.wall_s else 0.0

    @property
    def system_under_test_cores(self) -> float:
        return self.system_under_test_s / self.wall_s if self.wall_s else 0.0

    @property
    def fault_proxy_cores(self) -> float:
        return self.fault_proxy_s / self.wall_s if self.wall_s else 0.0


class FaultWindowFigures(_Model):
    index: int
    description: str
    start_s: float | None = Field(description="seconds since load start; None: never applied")
    end_s: float | None
    error: str | None = None


class LoadSummary(_Model):
    """The outcome of one `harness load run`: verdict first, then the figures behind it.

    Written as `summary.json`; its schema is `harness/schemas/summary.schema.json`
    (docs/formats.md). Times are ISO 8601 UTC in JSON, epoch floats in Python.
    """

    summary_version: int = Field(
        default=SUMMARY_VERSION, description="the document's format version (1: before it)"
    )
    profile: str
    source: str
    passed: bool
    exit_code: int
    started_at: UtcTime = Field(description="when the load started")
    ended_at: UtcTime = Field(description="when the load ended")
    workers: int
    checks: list[Check]
    total: RequestRow | None
    requests: list[RequestRow]
    errors: list[ErrorStats]
    faults: list[FaultWindowFigures]
    fault_events: list[TimelineEvent]
    benchmark: BenchmarkFigures | None
    cpu: CpuFigures | None
    report_path: str | None = None
    summary_path: str | None = None
    log_paths: list[str] = Field(default_factory=list)
    locust_report_path: str | None = Field(
        default=None, description="Locust's own HTML report (`--html`), beside ours"
    )
    locust_csv_paths: list[str] = Field(
        default_factory=list, description="Locust's own CSV files (`--csv`)"
    )

    @classmethod
    def read(cls, text: str, *, source: str = "summary.json") -> LoadSummary:
        """A summary from its JSON, any version this harness reads (1 had epoch times and
        no version field); a newer one is refused with a message naming its version."""
        import json

        check_version(json.loads(text), "summary", source=source)
        return cls.model_validate_json(text)

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def request_rows(result: LocustResult) -> tuple[list[RequestRow], RequestRow | None]:
    rows = [_row(stats, result.duration) for stats in result.requests]
    total = result.combined(TOTAL)
    return rows, (_row(total, result.duration, key="total") if total else None)


def _row(stats: RequestStats, duration: float, *, key: str | None = None) -> RequestRow:
    return RequestRow(
        key=key or stats.key,
        requests=stats.requests,
        failures=stats.failures,
        failure_ratio=stats.failure_ratio,
        rps=stats.requests / duration,
        avg_ms=stats.avg_ms,
        p50_ms=stats.percentile_ms(0.50),
        p95_ms=stats.percentile_ms(0.95),
        p99_ms=stats.percentile_ms(0.99),
        max_ms=stats.max_ms,
    )


def fault_window_figures(
    windows: Sequence[FaultWindow], *, origin: float
) -> list[FaultWindowFigures]:
    return [
        FaultWindowFigures(
            index=w.index,
            description=w.description,
            start_s=None if w.start is None else round(w.start - origin, 3),
            end_s=None if w.end is None else round(w.end - origin, 3),
            error=w.error,
        )
        for w in windows
    ]


def benchmark_figures(
    profile: LoadProfile, result: LocustResult, benchmark: Benchmark
) -> BenchmarkFigures:
    """Per-stage throughput and p95 of `benchmark.request`; the best stage that met both bounds.

    Each stage is measured after its ramp (users / spawn rate) plus 2 s to settle, capped at
    half the stage, so the rate reflects the stage's user count.
    """
    stages = profile.load_stages
    figures: list[StageFigures] = []
    offset = 0.0
    previous_users = 0
    for index, stage in enumerate(stages):
        ramp = abs(stage.users - previous_users) / stage.spawn_rate + 2.0
        start = offset + min(ramp, stage.duration / 2)
        end = offset + stage.duration
        figures.append(_stage(index, stage.users, start, end, result, benchmark))
        offset, previous_users = end, stage.users
    met = [f for f in figures if f.met]
    best = max(met, key=lambda f: f.request_rps, default=None)
    return BenchmarkFigures(
        request=benchmark.request,
        p95_limit_ms=benchmark.p95_ms,
        max_failure_ratio=benchmark.max_failure_ratio,
        sustainable_rps=None if best is None else round(best.request_rps, 2),
        at_users=None if best is None else best.users,
        stages=figures,
    )


def _stage(
    index: int, users: int, start: float, end: float, result: LocustResult, benchmark: Benchmark
) -> StageFigures:
    t0 = result.started_at
    span = max(end - start, 1e-9)
    everything = result.window(t0 + start, t0 + end)
    chosen = result.window(t0 + start, t0 + end, benchmark.request)
    p95 = percentile(chosen.histogram, 0.95)
    ratio = chosen.failures / chosen.requests if chosen.requests else 0.0
    met = chosen.requests > 0 and p95 is not None and p95 < benchmark.p95_ms
    met = met and ratio <= benchmark.max_failure_ratio
    return StageFigures(
        index=index,
        users=users,
        start_s=round(start, 2),
        end_s=round(end, 2),
        rps=everything.requests / span,
        request_rps=(chosen.requests - chosen.failures) / span,
        p95_ms=p95,
        failure_ratio=ratio,
        met=met,
    )


def benchmark_check(figures: BenchmarkFigures, minimum: float) -> Check:
    """The release gate: the sustainable rate must reach `minimum` requests per second."""
    observed = figures.sustainable_rps or 0.0
    name = f"sustainable {figures.request}/s at p95 < {figures.p95_limit_ms:g} ms"
    passed = observed >= minimum
    if passed:
        detail = f"{observed:.2f}/s with {figures.at_users} users, limit >= {minimum:g}/s"
    elif figures.sustainable_rps is None:
        detail = f"no stage stayed within the bounds; limit >= {minimum:g}/s"
    else:
        detail = (
            f"{observed:.2f}/s with {figures.at_users} users, limit >= {minimum:g}/s: "
            f"missed by {minimum - observed:.2f}/s"
        )
    return Check.judged(
        kind="slo",
        name=name,
        passed=passed,
        detail=detail,
        observed=observed,
        limit=minimum,
        unit="req/s",
        comparison=">=",
    )
