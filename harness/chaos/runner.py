"""Run one experiment against a running system.

    steady state (before) -> setup traffic -> method: faults on time + traffic + metrics
    timeline, assertions judged every tick -> rollback (always) -> steady state (after)
    -> status, journal, report

`run_experiment` takes an already running system (anything shaped like
`harness.runtime.RunningSystem`), so the CLI and pytest share it.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from harness import http_clients
from harness.assertions import Anchors, TrafficView
from harness.chaos.evaluate import Judge, conventions_of, describe_assertion
from harness.chaos.live import EventLog, LiveState, Reporter, make_reporter
from harness.chaos.load import BackgroundLoad
from harness.chaos.loader import ExperimentError, check_against_system
from harness.chaos.model import Experiment
from harness.chaos.probes import ChaosSystem, ProbeContext, run_probe
from harness.chaos.result import ExperimentResult, ProbeOutcome
from harness.faults import FaultScheduleExecutor
from harness.observe.timeline import (
    Timeline,
    TimelineRecorder,
    breakers_of,
    kept_metric_names,
    metrics_urls,
)
from harness.topology import ResolvedConventions, env_text
from harness.traffic import TrafficError, TrafficRun, traffic_source

__all__ = ["describe_assertion", "run_experiment"]  # describe_assertion: see chaos.evaluate

log = logging.getLogger(__name__)


class _Abort(Exception):
    """The run cannot go on (preflight, steady state, setup): status `aborted`."""


def run_experiment(
    experiment: Experiment,
    system: ChaosSystem,
    *,
    seed: int | None = None,
    journal_dir: Path | str | None = None,
    console: Console | None = None,
    live: bool | None = None,
    scrape_interval: float = 1.0,
    tick: float = 0.25,
    transport: httpx.BaseTransport | None = None,
    fail_fast: bool = False,
    topology: Path | None = None,
    backend: str = "process",
    html_report: bool = True,
) -> ExperimentResult:
    """Run `experiment` against `system` and return its result (never raises on failure).

    Args:
        seed: replay seed; default the experiment's `seed`, else a random one (recorded).
        journal_dir: where to write `<name>-<time>.json` and `.html` (default: not written).
        console: where the live view or plain lines go (default: nothing is shown).
        live: force (True) or disable (False) the rich Live panel; default: on a terminal.
        scrape_interval: seconds between metric scrapes (default 1.0).
        tick: seconds between assertion evaluations (default 0.25).
        transport: httpx transport for every request the run makes (probes, scrapes,
            traffic); default: real HTTP. Tests pass `httpx.MockTransport`.
        fail_fast: stop the method at the first failed assertion (rollback still runs;
            assertions not judged yet are `skipped`). Default False: judge them all.
        topology / backend: the topology file and backend `system` was started from, for
            the replay command (default: none named, process).
        html_report: with `journal_dir`, write the HTML report beside the journal (default);
            False leaves it to the caller (`write_html_report`): parallel suites render
            reports in their parent, so that one process, not every worker, loads matplotlib.

    KeyboardInterrupt still rolls back and writes the journal (status `interrupted`), then
    propagates.
    """
    chosen = seed if seed is not None else experiment.seed
    if chosen is None:
        chosen = random.SystemRandom().randrange(2**31)
    reporter = make_reporter(console, title=experiment.title, live=live)
    run = _Run(
        experiment,
        system,
        seed=chosen,
        reporter=reporter,
        interval=scrape_interval,
        tick=tick,
        transport=transport,
        fail_fast=fail_fast,
        journal_dir=Path(journal_dir) if journal_dir is not None else None,
    )
    run.result.topology = topology
    run.result.backend = backend
    try:
        run.execute()
    finally:
        reporter.close()
        if journal_dir is not None:
            from harness.chaos.journal import write_journal
            from harness.chaos.report import write_html_report

            run.result.journal_path = write_journal(run.result, Path(journal_dir))
            if html_report:
                run.result.report_path = write_html_report(run.result, Path(journal_dir))
    return run.result


class _Run:
    def __init__(
        self,
        experiment: Experiment,
        system: ChaosSystem,
        *,
        seed: int,
        reporter: Reporter,
        interval: float,
        tick: float,
        transport: httpx.BaseTransport | None,
        fail_fast: bool = False,
        journal_dir: Path | None = None,
    ) -> None:
        self.fail_fast = fail_fast
        self.stopped_early = False
        self.journal_dir = journal_dir
        self.experiment = experiment
        self.system = system
        self.reporter = reporter
        self.interval = interval
        self.tick = tick
        self.result = ExperimentResult(experiment=experiment, seed=seed)
        self.anchors = Anchors()
        self.phase = "starting"
        self.base_dir = Path(experiment.source).parent if experiment.source else Path.cwd()
        self.transport = transport
        self.client = http_clients.client(timeout=5.0, transport=transport)
        self.known_conventions = conventions_of(system)
        self.conventions = self.known_conventions or _no_conventions
        self.ctx = ProbeContext(
            system=system,
            client=self.client,
            base_dir=self.base_dir,
            invariant_context={"seed": seed},
            conventions=self.conventions,
        )
        self.judge = Judge(
            experiment.assertions,
            anchors=self.anchors,
            probes=self.ctx,
            conventions=self.conventions,
            grace=interval,
        )
        self.result.assertions = self.judge.checks
        self.recorder: TimelineRecorder | None = None
        self.executor: FaultScheduleExecutor | None = None
        self.traffic: TrafficRun | None = None
        self.load = BackgroundLoad()
        self.log = EventLog(self.result.events, reporter, lambda: self.anchors.origin)

    # -- the phases -----------------------------------------------------------------------

    def execute(self) -> None:
        result = self.result
        result.started_at = time.time()
        result.system = self._describe_system()
        before_ok = False
        interrupted = False
        try:
            self._preflight()
            before_ok = self._steady("before")
            if not before_ok:
                raise _Abort("the steady state did not hold before the method")
            self._setup_traffic()
            self._method()
        except _Abort as exc:
            result.reason = str(exc)
            self._event("abort", str(exc), ok=False)
        except KeyboardInterrupt:
            interrupted = True
            result.reason = "interrupted (Ctrl-C)"
            self._event("abort", result.reason, ok=False)
        except Exception as exc:  # the journal must say what broke, then rollback runs
            log.exception("chaos run failed")
            result.reason = f"the run broke: {type(exc).__name__}: {exc}"
            self._event("abort", result.reason, ok=False)
        finally:
            self._rollback()
            if before_ok and not interrupted:
                self._steady("after")
            self._finish(interrupted=interrupted, aborted=bool(result.reason))
        if interrupted:
            raise KeyboardInterrupt

    def _preflight(self) -> None:
        self._set_phase("preflight")
        try:
            check_against_system(
                self.experiment,
                edges=self.system.edges.keys(),
                services=self.system.services.keys(),
                conventions=self.known_conventions,
            )
        except ExperimentError as exc:
            raise _Abort(str(exc)) from None
        problem = env_mismatch(self.experiment, self.system)
        if problem:
            raise _Abort(problem)

    def _steady(self, when: str) -> bool:
        self._set_phase(f"steady state ({when})")
        outcomes = self.result.steady_before if when == "before" else self.result.steady_after
        for probe in self.experiment.steady_state.probes:
            kind = type(probe).__name__.removesuffix("Probe").lower()
            probe_result = run_probe(probe, self.ctx)
            outcomes.append(ProbeOutcome(name=probe.name, kind=kind, result=probe_result))
            self._event(
                f"steady/{when}", f"{probe.name}: {probe_result.summary}", ok=probe_result.ok
            )
        return all(outcome.result.ok for outcome in outcomes)

    def _setup_traffic(self) -> None:
        spec = self.experiment.method.traffic
        if spec is None:
            return
        self._set_phase("setup")
        try:
            source = traffic_source(spec, base_dir=self.base_dir)
            self.traffic = TrafficRun(source, spec, transport=self.transport)
            context = self.traffic.setup(self.system, self.result.seed)
        except TrafficError as exc:
            raise _Abort(str(exc)) from None
        self.result.traffic_context = dict(context)
        self.ctx.invariant_context.update(context)
        self._event("setup", f"traffic ready ({', '.join(sorted(context)) or 'no context'})")

    def _method(self) -> None:
        method = self.experiment.method
        topology = getattr(self.system, "topology", None)
        self.recorder = TimelineRecorder(
            metrics_urls(self.system),
            interval=self.interval,
            client=self.client,
            timeline=Timeline(breakers=breakers_of(topology) if topology is not None else None),
        )
        self.recorder.scrape_once()  # a baseline before anything happens
        self.recorder.start()
        self.executor = FaultScheduleExecutor(method.faults, self.system, on_event=self.log.fault)
        self._set_phase("method")
        start = time.time()
        self.result.method_started_at = start
        self.anchors.set("start", start)
        self._event("method", f"started; lasts {method.effective_duration:g}s")
        self.executor.start()
        if self.traffic is not None and method.traffic is not None:
            self.traffic.start(delay=method.traffic.start)
            self.anchors.set("traffic.start", start + method.traffic.start)
        self._start_load()
        self._watch(planned_end=start + method.effective_duration)

    def _watch(self, *, planned_end: float) -> None:
        hard_deadline = self.result.started_at + self.experiment.timeout
        while True:
            now = time.time()
            self._note_progress(now, planned_end)
            self._judge(now, final=False)
            self._show()
            ended = self.anchors.time_of_key("end") is not None
            if ended and self.judge.all_resolved:
                return
            if self.fail_fast and self.judge.any_failed:
                self._stop_early()
                return
            if now > hard_deadline:
                self._event(
                    "timeout",
                    f"the experiment's timeout ({self.experiment.timeout:g}s) passed",
                    ok=False,
                )
                self.result.errors.append(f"timeout of {self.experiment.timeout:g}s reached")
                return
            time.sleep(self.tick)

    def _stop_early(self) -> None:
        """Fail fast: judge what can already be judged (windows that have closed), skip
        the rest, so the verdict does not depend on which of two failures came first."""
        self.stopped_early = True
        now = time.time()
        self._judge(now, final=True, only=self.judge.closed_windows(now))
        self.judge.skip_pending("not judged: the run stopped at the first failure (fail fast)")
        self.result.assertions = self.judge.checks
        self._event("method", "stopped at the first failed assertion (fail fast)", ok=False)

    def _note_progress(self, now: float, planned_end: float) -> None:
        assert self.executor is not None
        self.anchors.record_fault_events(self.executor.timeline)
        load_running = self.load.running
        if self.anchors.time_of_key("end") is None and self.executor.wait(0) and not load_running:
            end_due = max(planned_end, self._last_removal() + self.experiment.method.after_faults)
            if now >= end_due:
                self._end_method()
        traffic = self.traffic
        if traffic is not None and traffic.done and self.anchors.time_of_key("traffic.end") is None:
            traffic.wait(0)
            self.anchors.set("traffic.end", traffic.ended_at or now)
            self._event("traffic", f"finished: {_traffic_counts(traffic.stats())}")

    def _last_removal(self) -> float:
        assert self.executor is not None
        removals = [e.at for e in self.executor.timeline if e.action == "remove"]
        return max(removals, default=self.anchors.origin or time.time())

    def _end_method(self) -> None:
        assert self.executor is not None
        self.executor.stop()  # faults without a duration last until the method ends
        self.anchors.record_fault_events(self.executor.timeline)
        if self.traffic is not None:
            self.traffic.request_stop()  # traffic without its own duration ends with the method
        self.anchors.set("end", time.time())
        self._set_phase("observing")
        self._event("method", "ended; waiting for pending assertions")

    # -- judging ------------------------------------------------------------------------

    def _judge(self, now: float, *, final: bool, only: list[int] | None = None) -> None:
        timeline = self.recorder.timeline if self.recorder is not None else None
        ctx = self.judge.context(now, final=final, timeline=timeline, traffic=self._traffic_view())
        for check in self.judge.judge(ctx, only=only):
            self._event(
                "assertion",
                f"{check.status.upper()} {check.name}: {check.summary}",
                ok=check.passed,
            )
        self.result.assertions = self.judge.checks

    def _traffic_view(self) -> TrafficView:
        if self.traffic is None:
            return TrafficView()
        return TrafficView(
            records=self.traffic.records,
            in_flight=self.traffic.in_flight,
            settle=self.traffic.timeout,
        )

    # -- rollback and the end -----------------------------------------------------------

    def _rollback(self) -> None:
        self._set_phase("rollback")
        if self.traffic is not None:
            self.traffic.stop()
            if self.anchors.time_of_key("traffic.end") is None and self.traffic.ended_at:
                self.anchors.set("traffic.end", self.traffic.ended_at)
        if self.executor is not None:
            self.executor.stop()
            self.anchors.record_fault_events(self.executor.timeline)
        if self.experiment.rollback.reset_faults and self.experiment.method.faults:
            try:
                reset = getattr(self.system.faults, "reset", None)
                if reset is not None:
                    reset()
                self._event("rollback", "every proxy reset (toxics removed, edges enabled)")
            except Exception as exc:
                self.result.errors.append(f"rollback: resetting the proxies failed: {exc}")
                self._event("rollback", f"resetting the proxies failed: {exc}", ok=False)
        self.load.join()

    def _finish(self, *, interrupted: bool, aborted: bool) -> None:
        result = self.result
        if self.recorder is not None:
            timeline = self.recorder.stop()
            if not aborted and not interrupted:
                self._judge(time.time(), final=True)
            result.record_timeline(timeline, self._metric_names(), self.anchors)
            if result.scrape_failures:
                services = sorted({str(f["service"]) for f in result.scrape_failures})
                self._event(
                    "metrics",
                    f"{len(result.scrape_failures)} scrape(s) failed ({', '.join(services)})",
                    ok=False,
                )
        self.judge.close()
        self.client.close()
        if self.executor is not None:
            result.fault_events = self.executor.timeline
            result.errors += [
                f"fault {e.action} failed: {e.description}: {e.error}" for e in self.executor.errors
            ]
        if self.traffic is not None:
            result.traffic = self.traffic.records
        result.anchors = self.anchors.as_offsets()
        result.conclude(interrupted=interrupted, aborted=aborted)
        self._event(
            "verdict",
            f"{result.status.upper()} in {result.duration:.1f}s (seed {result.seed})",
            ok=result.status == "passed",
        )
        self._set_phase(result.status)
        self._show()

    # -- load (Locust) --------------------------------------------------------------------

    def _start_load(self) -> None:
        spec = self.experiment.method.load
        if spec is None:
            return
        out_dir = self.journal_dir or Path(tempfile.mkdtemp(prefix="chaos-load-"))
        self.load.start(
            spec, self.system, self.base_dir, out_dir / f"load-{self.result.seed}", self.result
        )
        self._event("load", f"Locust profile {spec.profile} started")

    # -- helpers --------------------------------------------------------------------------

    def _metric_names(self) -> list[str]:
        """What the journal keeps of the timeline: every series an assertion or probe reads,
        and the breaker conventions' metrics (for the report's breaker lanes)."""
        asked: set[str] = set()
        for assertion in self.experiment.assertions:
            asked |= assertion.metric_names(self.conventions)
        for probe in self.experiment.steady_state.probes:
            metric = getattr(probe, "metric", None)
            if isinstance(metric, str):
                asked.add(metric)
        return kept_metric_names(getattr(self.system, "topology", None), asked)

    def _describe_system(self) -> dict[str, Any]:
        services = {name: self.system.url(name) for name in self.system.services}
        # Each caller's breaker convention, so the report can draw breaker lanes later.
        topology: Any = getattr(self.system, "topology", None)
        conventions = (
            {} if topology is None else {n: topology.conventions_for(n) for n in topology.services}
        )
        breakers = {
            name: c.breaker.model_dump()
            for name, c in conventions.items()
            if c.breaker is not None
            and any(e.split("->")[0].strip() == name for e in self.system.edges)
        }
        return {
            "services": services,
            "edges": sorted(self.system.edges),
            "env": self.experiment.env_text,
            "breakers": breakers,
        }

    def _event(self, kind: str, message: str, *, ok: bool = True, at: float | None = None) -> None:
        self.log.add(kind, message, ok=ok, at=at)

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._show()

    def _show(self) -> None:
        self.reporter.update(
            LiveState(
                title=self.experiment.title,
                phase=self.phase,
                elapsed=time.time() - self.result.started_at if self.result.started_at else 0.0,
                active_faults=self.executor.active if self.executor is not None else [],
                breakers=self._breaker_states(),
                traffic=self.traffic.stats() if self.traffic is not None else {},
                assertions=list(self.result.assertions),
                recent=self.result.events[-6:],
            )
        )

    def _breaker_states(self) -> dict[str, str]:
        if self.recorder is None:
            return {}
        return self.recorder.timeline.latest_breaker_states()


def _no_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions()


def _traffic_counts(stats: Mapping[str, Mapping[str, int]]) -> str:
    return (
        ", ".join(
            f"{op} {c.get('ok', 0)} ok/{c.get('error', 0)} err" for op, c in sorted(stats.items())
        )
        or "no requests"
    )


def env_mismatch(experiment: Experiment, system: object) -> str | None:
    """Why the running system does not have the settings the experiment needs, or None."""
    if not experiment.env:
        return None
    topology = getattr(system, "topology", None)
    if topology is None:
        return None  # attach-mode systems cannot be inspected; the journal records `env`
    shared = {key: env_text(value) for key, value in topology.system.env.items()}
    problems = []
    for key, want in experiment.env_text.items():
        for name, spec in topology.services.items():
            if not getattr(spec, "startable", True):
                continue
            have = env_text(spec.env[key]) if key in spec.env else shared.get(key)
            if have != want:
                problems.append(
                    f"{key}={want} (service {name} has {have if have is not None else 'it unset'})"
                )
                break
    if not problems:
        return None
    return (
        f"{experiment.source}: the experiment needs {', '.join(problems)}; start the system "
        "with these settings (`harness chaos run` does; from Python use "
        "Topology.with_env)"
    )
