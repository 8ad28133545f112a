"""Run a load profile against a running system and decide pass or fail.

    Locust (own processes) ──requests──> system under test <──scrapes── TimelineRecorder
              │ history/result files                ^
              v                                     └── FaultScheduleExecutor (faults on time)
    runner: progress, then SLOs + breaker assertions + invariants -> report.html, summary.json

`run_load` takes an already running system (anything shaped like
`harness.runtime.RunningSystem`); `run_profile` starts one from a topology first.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from harness.assertions import Check, FaultWindow, conventions_of, fault_windows
from harness.console import make_console
from harness.faults import FaultScheduleExecutor
from harness.load.assertions import evaluate_assertions, load_anchors
from harness.load.cpu import CpuMeter
from harness.load.invariants import run_invariants
from harness.load.locust_process import LocustLaunch, LocustProcesses
from harness.load.profile import (
    LoadProfile,
    ProfileError,
    check_profile_against,
    load_profile,
)
from harness.load.progress import HistoryTail, LoadProgress
from harness.load.results import LocustResult
from harness.load.summary import (
    BenchmarkFigures,
    CpuFigures,
    LoadSummary,
    benchmark_check,
    benchmark_figures,
    fault_window_figures,
    request_rows,
)
from harness.load.verdict import evaluate_slos
from harness.observe.timeline import (
    Timeline,
    TimelineRecorder,
    breakers_of,
    kept_metric_names,
    metrics_urls,
)
from harness.system import RunningSystemLike
from harness.topology import ResolvedConventions, Topology, TopologyError

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_RUN_ERROR",
    "LoadRunError",
    "check_against_its_topology",
    "render_saved_report",
    "run_load",
    "run_profile",
]

EXIT_OK = 0
EXIT_FAILED = 1  # an SLO, assertion or invariant failed
EXIT_RUN_ERROR = 3  # the run itself broke (Locust did not start or left no results)

# Locust may take a while to import a locustfile and, distributed, to see its workers.
START_TIMEOUT_S = 90.0
# Beyond the profile's duration: Locust's shutdown, the workers' last reports.
FINISH_GRACE_S = 60.0
WORKER_REPORT_INTERVAL_S = 3.0  # Locust's WORKER_REPORT_INTERVAL
TIMELINE_FILE = "timeline.json"
LOCUST_RESULT_FILE = "locust-result.json"


class LoadRunError(RuntimeError):
    """The load run could not be carried out (as opposed to: it ran and failed its checks)."""


# What the load runner drives (harness.system keeps the one hierarchy).
LoadTarget = RunningSystemLike


def run_profile(
    path: Path | str | LoadProfile,
    *,
    topology: Path | str | None = None,
    out_dir: Path | str | None = None,
    workers: int = 0,
    remote_workers: int = 0,
    master_bind_host: str = "127.0.0.1",
    master_port: int = 0,
    console: Console | None = None,
) -> LoadSummary:
    """Load a profile file, start the system from its topology, run, tear down.

    Args:
        path: the profile (YAML), or one already loaded (e.g. with `profile.override`).
        topology: the system to start (default: the profile's `topology`).
        out_dir: where the report and logs go (default `runs/load/<profile>-<time>`).
        workers, remote_workers, master_bind_host, master_port: see `run_load`.
        console: where progress goes (default: stderr).
    """
    from harness.runtime import start_system  # late: the load models work without a runtime
    from harness.topology import load_topology

    profile = path if isinstance(path, LoadProfile) else load_profile(path)
    topology_path = Path(topology) if topology is not None else profile.topology
    if topology_path is None:
        raise ProfileError(
            f"{profile.source}: topology: no topology given; expected `topology:` in the "
            "profile or --topology FILE"
        )
    system_topology = with_service_env(load_topology(topology_path), profile)
    _check_against(profile, system_topology)  # before anything is started
    out = Path(out_dir) if out_dir is not None else default_out_dir(profile)
    with start_system(system_topology) as system:  # under the home: `harness down` finds it
        return run_load(
            profile,
            system=system,
            out_dir=out,
            workers=workers,
            remote_workers=remote_workers,
            master_bind_host=master_bind_host,
            master_port=master_port,
            console=console,
        )


def check_against_its_topology(profile: LoadProfile, topology: Path | str | None = None) -> None:
    """Check the profile against `topology`, else its own `topology:`, else the one
    `find_topology` finds ($HARNESS_TOPOLOGY, ./system.toml); nothing is started.

    Raises ProfileError / TopologyError naming the file, the key and the valid choices.
    """
    from harness.topology import find_topology, load_topology

    chosen = topology if topology is not None else profile.topology
    _check_against(profile, with_service_env(load_topology(find_topology(chosen)), profile))


def _check_against(profile: LoadProfile, topology: Topology) -> None:
    check_profile_against(
        profile,
        edges=[edge.name for edge in topology.edges],
        services=topology.services,
        conventions=topology.conventions_for,
    )


def with_service_env(topology: Topology, profile: LoadProfile) -> Topology:
    """The topology with the profile's `service_env` added to its services' environments."""
    try:
        return topology.with_service_env(profile.service_env)
    except TopologyError as exc:  # name the profile file the bad key is in
        raise ProfileError(f"{profile.source}: {exc}") from None


def default_out_dir(profile: LoadProfile) -> Path:
    return Path("runs") / "load" / f"{profile.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_load(
    profile: LoadProfile,
    *,
    system: LoadTarget,
    out_dir: Path | str,
    workers: int = 0,
    remote_workers: int = 0,
    master_bind_host: str = "127.0.0.1",
    master_port: int = 0,
    console: Console | None = None,
) -> LoadSummary:
    """Run `profile` against `system`; write `report.html` and `summary.json` into `out_dir`.

    Args:
        profile: a parsed profile (`load_profile`).
        system: the running system (its services' URLs, pids, fault injector).
        out_dir: directory for the report, summary, Locust logs and history.
        workers: local Locust worker processes (0: one standalone process).
        remote_workers: workers on other machines the master waits for.
        master_bind_host: where the master listens for workers (default 127.0.0.1).
        master_port: the master's port (0: a free one).
        console: where progress goes (default: stderr).

    Raises:
        ProfileError: the profile's faults name edges or services the system lacks.
        LoadRunError: Locust did not start or left no result.
    """
    from harness.load.report import write_report  # late: matplotlib is slow to import

    console = console or make_console(stderr=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_faults(profile, system)
    launch = LocustLaunch(
        profile=profile,
        host=profile.host or system.url(profile.host_service),
        out_dir=out,
        workers=workers,
        remote_workers=remote_workers,
        master_bind_host=master_bind_host,
        master_port=master_port,
        extra_env=service_url_env(system),
        # Workers report to the master every 3 s; finer ticks would alternate between
        # three seconds of requests and none.
        interval=WORKER_REPORT_INTERVAL_S if workers + remote_workers else 1.0,
    )
    run = _Run(profile, system, launch, console)
    run.execute()
    checks = run.checks()
    summary = _summarise(profile, run, checks, workers=workers)
    report_path, summary_path = out / "report.html", out / "summary.json"
    summary = summary.model_copy(
        update={"report_path": str(report_path), "summary_path": str(summary_path)}
    )
    summary_path.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    timeline_data = run.timeline.to_dict(run.kept_metric_names())
    (out / TIMELINE_FILE).write_text(json.dumps(timeline_data), encoding="utf-8")
    write_report(
        report_path, summary=summary, result=run.result, timeline=run.timeline, profile=profile
    )
    return summary


def render_saved_report(out_dir: Path | str) -> Path:
    """Re-render `report.html` from a finished run's files (summary, Locust result, timeline).

    The profile is read again from the summary's `source`, for its SLO lines.
    """
    out = Path(out_dir)
    try:
        summary = LoadSummary.read((out / "summary.json").read_text(), source=str(out))
        result = LocustResult.model_validate_json((out / LOCUST_RESULT_FILE).read_text())
        timeline_data = (
            json.loads((out / TIMELINE_FILE).read_text()) if (out / TIMELINE_FILE).exists() else {}
        )
    except (OSError, ValueError) as exc:
        raise LoadRunError(f"{out}: not a finished load run: {exc}") from exc
    profile = load_profile(summary.source)
    breakers = None
    if profile.topology is not None:
        from harness.topology import load_topology

        breakers = breakers_of(load_topology(profile.topology))
    timeline = Timeline.from_dict(timeline_data, breakers=breakers)
    from harness.load.report import write_report  # late: matplotlib is slow to import

    return write_report(
        out / "report.html", summary=summary, result=result, timeline=timeline, profile=profile
    )


def service_url_env(system: LoadTarget) -> dict[str, str]:
    """`HARNESS_SERVICE_URL_<NAME>` for every service, so a locustfile can seed data directly."""
    return {
        f"HARNESS_SERVICE_URL_{name.upper().replace('-', '_')}": system.url(name)
        for name in system.services
    }


def _check_faults(profile: LoadProfile, system: LoadTarget) -> None:
    check_profile_against(
        profile,
        edges=system.edges,
        services=system.services,
        conventions=conventions_of(system),
    )


class _Run:
    """One execution: Locust, the timeline, the fault schedule, CPU meters, progress."""

    def __init__(
        self, profile: LoadProfile, system: LoadTarget, launch: LocustLaunch, console: Console
    ) -> None:
        self.profile = profile
        self.system = system
        self.launch = launch
        self.console = console
        topology = getattr(system, "topology", None)
        self.topology: Topology | None = topology if isinstance(topology, Topology) else None
        self.timeline = Timeline(
            breakers=breakers_of(self.topology) if self.topology is not None else None
        )
        self.conventions = conventions_of(system) or _no_conventions
        self.started_at = 0.0
        self.ended_at = 0.0
        self.executor = FaultScheduleExecutor(profile.faults, system)
        self.cpu: CpuFigures | None = None
        self.locust_exit: int | None = None
        self.log_paths: list[Path] = []
        self._result: LocustResult | None = None

    @property
    def result(self) -> LocustResult:
        assert self._result is not None
        return self._result

    def execute(self) -> None:
        recorder = TimelineRecorder(
            metrics_urls(self.system), interval=self.profile.scrape_interval, timeline=self.timeline
        )
        meter = CpuMeter(
            {
                "system": lambda: _service_pids(self.system),
                "proxy": lambda: _fault_proxy_pids(self.system),
            }
        )
        started = time.monotonic()
        self.started_at = time.time()
        with contextlib.ExitStack() as stack:
            stack.enter_context(recorder)
            locust = stack.enter_context(LocustProcesses(self.launch))
            self.log_paths = locust.log_paths
            for pid in locust.pids:
                meter.add("locust", pid)
            progress = stack.enter_context(
                LoadProgress(
                    console=self.console,
                    total_s=self.profile.total_duration,
                    title=self.profile.name,
                )
            )
            tail = HistoryTail(self.launch.history_path)
            self._wait_for_load(locust, tail, progress, meter)
            stack.enter_context(_started(self.executor))
            self._follow(locust, tail, progress, meter)
        self.ended_at = time.time()
        used = meter.used()
        self.cpu = CpuFigures(
            wall_s=round(time.monotonic() - started, 2),
            load_generator_s=round(used.get("locust", 0.0), 2),
            system_under_test_s=round(used.get("system", 0.0), 2),
            fault_proxy_s=round(used.get("proxy", 0.0), 2),
        )
        self._result = self._read_result(locust)

    def _wait_for_load(
        self, locust: LocustProcesses, tail: HistoryTail, progress: LoadProgress, meter: CpuMeter
    ) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            ticks = tail.read()
            if ticks:
                progress.load_started()
                progress.update(ticks, faults=[], timeline=self.timeline)
                return
            if locust.poll() is not None:
                raise LoadRunError(
                    f"Locust exited with code {locust.poll()} before the load started; "
                    f"last log lines:\n{locust.tail()}"
                )
            if time.monotonic() > deadline:
                raise LoadRunError(
                    f"Locust did not start within {START_TIMEOUT_S:.0f}s; last log lines:\n"
                    f"{locust.tail()}"
                )
            meter.sample()
            time.sleep(0.1)

    def _follow(
        self, locust: LocustProcesses, tail: HistoryTail, progress: LoadProgress, meter: CpuMeter
    ) -> None:
        deadline = time.monotonic() + self.profile.total_duration + FINISH_GRACE_S
        while locust.poll() is None:
            if time.monotonic() > deadline:
                self.console.print("Locust overran its duration; stopping it", highlight=False)
                break
            meter.sample()
            progress.update(tail.read(), faults=self.executor.active, timeline=self.timeline)
            locust.wait(timeout=0.5)
        self.locust_exit = locust.poll()
        progress.update(tail.read(), faults=self.executor.active, timeline=self.timeline)

    def _read_result(self, locust: LocustProcesses) -> LocustResult:
        path = self.launch.result_path
        if not path.exists():
            raise LoadRunError(
                f"Locust (exit code {self.locust_exit}) wrote no result to {path}; "
                f"last log lines:\n{locust.tail()}"
            )
        return LocustResult.model_validate_json(path.read_text(encoding="utf-8"))

    @property
    def benchmark(self) -> BenchmarkFigures | None:
        if self.profile.benchmark is None:
            return None
        return benchmark_figures(self.profile, self.result, self.profile.benchmark)

    def checks(self) -> list[Check]:
        checks = [_run_check(self.result, self.locust_exit)]
        checks += evaluate_slos(self.profile.slos, self.result)
        bench = self.benchmark
        if (
            bench is not None
            and self.profile.benchmark
            and self.profile.benchmark.min_rps is not None
        ):
            checks.append(benchmark_check(bench, self.profile.benchmark.min_rps))
        windows = self.windows()
        checks += evaluate_assertions(
            self.profile,
            self.timeline,
            load_anchors(
                self.executor.timeline, started_at=self.started_at, ended_at=self.ended_at
            ),
            conventions=self.conventions,
            events=self.executor.timeline,
        )
        checks += self._scrape_checks()
        checks += [
            Check.judged(
                kind="run", name=f"fault {w.description}", passed=False, detail=w.error or ""
            )
            for w in windows
            if w.error
        ]
        context, problem = _invariant_context(self.launch.initial_stock_path)
        if problem is not None:
            checks.append(
                Check.judged(kind="run", name="initial stock", passed=False, detail=problem)
            )
        checks += run_invariants(
            self.profile.invariants,
            self.system,
            settle=self.profile.invariants_settle,
            context=context,
        )
        return checks

    def _scrape_checks(self) -> list[Check]:
        """Scrape failures, shown as a run line (not failing: a paused or killed service
        is expected to miss scrapes while a fault holds it)."""
        failures = self.timeline.failures
        if not failures:
            return []
        services = sorted({failure.service for failure in failures})
        return [
            Check(
                kind="run",
                name="metrics scrapes",
                status="passed",
                summary=f"{len(failures)} scrape(s) failed ({', '.join(services)}); "
                f"first: {failures[0].error}",
                observed=float(len(failures)),
                evidence={
                    "failures": [
                        {
                            "service": f.service,
                            "at": round(f.at - self.started_at, 3),
                            "error": f.error,
                        }
                        for f in failures[:50]
                    ]
                },
            )
        ]

    def kept_metric_names(self) -> list[str]:
        """What `timeline.json` keeps: the breaker conventions' metrics and every metric
        an assertion of the profile reads."""
        asked: set[str] = set()
        for assertion in self.profile.engine_assertions():
            asked |= assertion.metric_names(self.conventions)
        return kept_metric_names(self.topology, asked)

    def windows(self) -> list[FaultWindow]:
        return fault_windows(
            self.executor.timeline,
            [fault.describe() for fault in self.profile.faults],
            run_end=self.result.ended_at,
        )


_INITIAL_STOCK = TypeAdapter(dict[str, int])


def _no_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions()


def _invariant_context(stock_path: Path) -> tuple[dict[str, Any], str | None]:
    """Keywords for invariant checkers: `initial_stock` when the locustfile recorded the
    stock of the products it created (else checkers skip stock conservation), and what
    is wrong with that file if it cannot be read."""
    if not stock_path.exists():
        return {}, None
    try:
        stock = _INITIAL_STOCK.validate_json(stock_path.read_bytes())
    except (OSError, ValidationError) as exc:
        return {}, f"{stock_path}: expected a JSON object of sku -> stock: {exc}"
    return {"initial_stock": stock}, None


@contextlib.contextmanager
def _started(executor: FaultScheduleExecutor) -> Iterator[FaultScheduleExecutor]:
    """Apply the schedule from now; always roll back (even on Ctrl-C)."""
    executor.start()
    try:
        yield executor
    finally:
        executor.stop()


def _run_check(result: LocustResult, exit_code: int | None) -> Check:
    total = sum(r.requests for r in result.requests)
    if total == 0:
        return Check.judged(
            kind="run",
            name="load was generated",
            passed=False,
            detail=f"Locust made no requests (exit code {exit_code})",
        )
    return Check.judged(
        kind="run",
        name="load was generated",
        passed=True,
        observed=float(total),
        detail=f"{total} requests in {result.duration:.0f}s",
    )


def _service_pids(system: LoadTarget) -> list[int]:
    pids = []
    for handle in system.services.values():
        pid = getattr(handle, "pid", None)
        if isinstance(pid, int):
            pids.append(pid)
    return pids


def _fault_proxy_pids(system: LoadTarget) -> list[int]:
    """The embedded fault proxy's pid, when the runtime started one (RunningSystem.state)."""
    state = getattr(system, "state", None)
    process = getattr(getattr(state, "fault_proxy", None), "process", None)
    pid = getattr(process, "pid", None)
    return [pid] if isinstance(pid, int) else []


def _summarise(
    profile: LoadProfile, run: _Run, checks: list[Check], *, workers: int
) -> LoadSummary:
    result = run.result
    rows, total = request_rows(result)
    passed = all(check.passed for check in checks)
    return LoadSummary(
        profile=profile.name,
        source=profile.source,
        passed=passed,
        exit_code=EXIT_OK if passed else EXIT_FAILED,
        started_at=result.started_at,
        ended_at=result.ended_at,
        workers=workers,
        checks=checks,
        total=total,
        requests=rows,
        errors=result.errors,
        faults=fault_window_figures(run.windows(), origin=result.started_at),
        fault_events=run.executor.timeline,
        benchmark=run.benchmark,
        cpu=run.cpu,
        log_paths=[str(p) for p in run.log_paths],
        locust_report_path=(
            str(run.launch.locust_report_path) if run.launch.locust_report_path.exists() else None
        ),
        locust_csv_paths=[str(p) for p in run.launch.locust_csv_paths if p.exists()],
    )
