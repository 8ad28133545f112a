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
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from harness.chaos.evaluate import (
    BREAKER_TRANSITIONS_METRIC,
    Anchors,
    Verdict,
    evaluate_breaker,
    evaluate_metric,
    evaluate_traffic,
    window_of,
)
from harness.chaos.live import LiveState, Reporter, make_reporter
from harness.chaos.loader import ExperimentError, check_against_system
from harness.chaos.model import (
    Assertion,
    BreakerAssertion,
    Experiment,
    HttpAssertion,
    InvariantAssertion,
    MetricAssertion,
    TrafficAssertion,
)
from harness.chaos.probes import (
    ChaosSystem,
    ProbeContext,
    ProbeResult,
    check_http,
    check_invariant,
    run_probe,
)
from harness.chaos.result import AssertionResult, ExperimentResult, ProbeOutcome, RunEvent
from harness.faults import FaultScheduleExecutor, TimelineEvent
from harness.observe.timeline import (
    BREAKER_STATE_METRIC,
    BREAKER_STATE_NAMES,
    TimelineRecorder,
    metrics_urls,
)
from harness.topology import env_text
from harness.traffic import TrafficError, TrafficRun, traffic_source

__all__ = ["describe_assertion", "run_experiment"]

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
    try:
        run.execute()
    finally:
        reporter.close()
        if journal_dir is not None:
            from harness.chaos.journal import write_journal
            from harness.chaos.report import write_html_report

            run.result.journal_path = write_journal(run.result, Path(journal_dir))
            run.result.report_path = write_html_report(run.result, Path(journal_dir))
    return run.result


def describe_assertion(assertion: Assertion) -> str:
    """The expectation in words, for journals and reports."""
    if isinstance(assertion, BreakerAssertion):
        if assertion.transitions is not None:
            steps = " then ".join(f"{a}->{b}" for a, b in assertion.transitions)
            what = f"breaker {assertion.breaker} goes {steps}"
        else:
            verb = "is" if assertion.mode == "always" else "becomes"
            what = f"breaker {assertion.breaker} {verb} {assertion.state}"
        return f"{what} {assertion.describe_window()}"
    if isinstance(assertion, MetricAssertion):
        measure = "increase of " if assertion.measure == "increase" else ""
        per = f" per {assertion.per.describe_metric()}" if assertion.per else ""
        return (
            f"{assertion.effective_mode}: {measure}{assertion.describe_metric()}{per} "
            f"{assertion.describe_comparison()} {assertion.describe_window()}"
        )
    if isinstance(assertion, TrafficAssertion):
        matching = (
            f"status {assertion.status}" if assertion.status is not None else assertion.outcome
        )
        return (
            f"traffic {assertion.traffic} ({matching}) {assertion.measure} "
            f"{assertion.describe_comparison()} {assertion.describe_window()}"
        )
    if isinstance(assertion, HttpAssertion):
        request = assertion.http
        return (
            f"{request.method} {request.service}{request.path} answers "
            f"{'/'.join(map(str, assertion.status))} {assertion.describe_window()}"
        )
    rules = f" ({', '.join(assertion.rules)})" if assertion.rules else ""
    return f"invariant {assertion.invariant}{rules} holds {assertion.describe_window()}"


def _kind(assertion: Assertion) -> str:
    return {
        BreakerAssertion: "breaker",
        MetricAssertion: "metric",
        TrafficAssertion: "traffic",
        HttpAssertion: "http",
        InvariantAssertion: "invariant",
    }[type(assertion)]


@dataclass(slots=True)
class _ActiveCheck:
    """An HTTP or invariant assertion being retried: one attempt in flight at a time."""

    future: Future[ProbeResult] | None = None
    next_at: float = 0.0
    last: ProbeResult | None = None
    attempts: int = 0


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
        self.result.assertions = [
            AssertionResult(name=a.name, kind=_kind(a), expectation=describe_assertion(a))
            for a in experiment.assertions
        ]
        self.anchors = Anchors()
        self.phase = "starting"
        self.base_dir = Path(experiment.source).parent if experiment.source else Path.cwd()
        self.transport = transport
        self.client = httpx.Client(timeout=5.0, transport=transport)
        self.ctx = ProbeContext(
            system=system,
            client=self.client,
            base_dir=self.base_dir,
            invariant_context={"seed": seed},
        )
        self.recorder: TimelineRecorder | None = None
        self.executor: FaultScheduleExecutor | None = None
        self.traffic: TrafficRun | None = None
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chaos-check")
        self.active: dict[int, _ActiveCheck] = {}
        self.load_thread: Any = None

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
        self.recorder = TimelineRecorder(
            metrics_urls(self.system), interval=self.interval, client=self.client
        )
        self.recorder.scrape_once()  # a baseline before anything happens
        self.recorder.start()
        self.executor = FaultScheduleExecutor(
            method.faults, self.system, on_event=self._on_fault_event
        )
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
            if ended and all(a.status != "pending" for a in self.result.assertions):
                return
            if self.fail_fast and any(a.status == "failed" for a in self.result.assertions):
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
        closed = [
            index
            for index, assertion in enumerate(self.experiment.assertions)
            if self.result.assertions[index].status == "pending"
            and _window_closed(assertion, self.anchors, now)
        ]
        self._judge(now, final=True, only=closed)
        for outcome in self.result.assertions:
            if outcome.status == "pending":
                outcome.status = "skipped"
                outcome.summary = "not judged: the run stopped at the first failure (fail fast)"
        self._event("method", "stopped at the first failed assertion (fail fast)", ok=False)

    def _note_progress(self, now: float, planned_end: float) -> None:
        assert self.executor is not None
        self.anchors.record_fault_events(self.executor.timeline)
        load_running = self.load_thread is not None and self.load_thread.is_alive()
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
        for index, (assertion, outcome) in enumerate(
            zip(self.experiment.assertions, self.result.assertions, strict=True)
        ):
            if outcome.status != "pending" or (only is not None and index not in only):
                continue
            verdict = self._verdict(index, assertion, now, final=final)
            outcome.summary = verdict.summary
            outcome.evidence = verdict.evidence
            if verdict.resolved:
                outcome.status = verdict.status
                origin = self.anchors.origin
                outcome.resolved_at = None if origin is None else round(now - origin, 3)
                self._event(
                    "assertion",
                    f"{verdict.status.upper()} {outcome.name}: {verdict.summary}",
                    ok=verdict.status == "passed",
                )

    def _verdict(self, index: int, assertion: Assertion, now: float, *, final: bool) -> Verdict:
        timeline = self.recorder.timeline if self.recorder is not None else None
        if isinstance(assertion, MetricAssertion) and timeline is not None:
            return evaluate_metric(
                assertion, timeline, self.anchors, now=now, final=final, grace=self.interval
            )
        if isinstance(assertion, BreakerAssertion) and timeline is not None:
            return evaluate_breaker(
                assertion, timeline, self.anchors, now=now, final=final, grace=self.interval
            )
        if isinstance(assertion, TrafficAssertion):
            records = self.traffic.records if self.traffic is not None else []
            settle = self.traffic.timeout if self.traffic is not None else 0.0
            in_flight = self.traffic.in_flight if self.traffic is not None else []
            return evaluate_traffic(
                assertion,
                records,
                self.anchors,
                now=now,
                final=final,
                settle=settle,
                in_flight=in_flight,
            )
        if isinstance(assertion, HttpAssertion | InvariantAssertion):
            return self._drive_active(index, assertion, now, final=final)
        return Verdict("failed", "the method never ran") if final else Verdict("pending", "")

    def _drive_active(
        self, index: int, assertion: HttpAssertion | InvariantAssertion, now: float, *, final: bool
    ) -> Verdict:
        state = self.active.setdefault(index, _ActiveCheck())
        outcome = self.result.assertions[index]
        window = window_of(assertion.after, assertion.within, assertion.until, self.anchors)
        if window is None:
            return (
                Verdict("failed", f"the window never opened ({assertion.after})")
                if final
                else Verdict("pending", f"waiting for {assertion.after}")
            )
        if state.future is not None and (state.future.done() or final):
            last = state.future.result()
            state.future, state.last = None, last
            state.attempts += 1
            outcome.attempts = state.attempts
            if last.ok:
                return Verdict(
                    "passed", f"{last.summary} (attempt {state.attempts})", last.evidence
                )
            state.next_at = now + assertion.interval
        closed = window.end is not None and now > window.end
        if state.last is not None and (closed or final) and state.future is None:
            return Verdict(
                "failed",
                f"{state.last.summary} (after {state.attempts} attempts)",
                state.last.evidence,
            )
        if state.future is None and now >= window.start and now >= state.next_at and not final:
            state.future = self.pool.submit(self._check_active, assertion)
        if final and state.future is None and state.last is None:
            return Verdict("failed", "never checked: the run ended before the window")
        summary = state.last.summary if state.last is not None else "checking"
        return Verdict("pending", summary)

    def _check_active(self, assertion: HttpAssertion | InvariantAssertion) -> ProbeResult:
        if isinstance(assertion, HttpAssertion):
            return check_http(assertion, self.ctx)
        return check_invariant(assertion.invariant, assertion.rules, self.ctx)

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
        self._join_load()

    def _finish(self, *, interrupted: bool, aborted: bool) -> None:
        result = self.result
        if self.recorder is not None:
            timeline = self.recorder.stop()
            if not aborted and not interrupted:
                self._judge(time.time(), final=True)
            result.metrics = timeline.to_dict(names=self._metric_names())
            result.scrape_failures = len(timeline.failures)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()
        if self.executor is not None:
            result.fault_events = self.executor.timeline
            result.errors += [
                f"fault {e.action} failed: {e.description}: {e.error}" for e in self.executor.errors
            ]
        if self.traffic is not None:
            result.traffic = self.traffic.records
        if result.load is not None and not result.load.get("passed", True):
            failed = [check.get("name", "?") for check in result.load.get("failed_checks", [])]
            why = result.load.get("error") or f"failed checks: {', '.join(failed)}"
            result.errors.append(f"load profile {result.load.get('profile', '')}: {why}")
        result.anchors = self.anchors.as_offsets()
        result.ended_at = time.time()
        if interrupted:
            result.status = "interrupted"
        elif aborted:
            result.status = "aborted"
        elif result.failed_assertions or result.deviated or result.errors:
            result.status = "failed"
        else:
            result.status = "passed"
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
        import tempfile
        import threading

        from harness.chaos.load import run_load_in_background

        out_dir = self.journal_dir or Path(tempfile.mkdtemp(prefix="chaos-load-"))
        self.load_thread = threading.Thread(
            target=run_load_in_background,
            args=(
                spec,
                self.system,
                self.base_dir,
                out_dir / f"load-{self.result.seed}",
                self.result,
            ),
            name="chaos-load",
            daemon=True,
        )
        self.load_thread.start()
        self._event("load", f"Locust profile {spec.profile} started")

    def _join_load(self) -> None:
        if self.load_thread is not None:
            self.load_thread.join(timeout=120)

    # -- helpers --------------------------------------------------------------------------

    def _metric_names(self) -> list[str]:
        names = {BREAKER_STATE_METRIC, BREAKER_TRANSITIONS_METRIC, "shop_sagas_in_flight"}
        for assertion in self.experiment.assertions:
            if isinstance(assertion, MetricAssertion):
                names.add(assertion.metric)
                if assertion.per is not None:
                    names.add(assertion.per.metric)
        return sorted(names)

    def _describe_system(self) -> dict[str, Any]:
        services = {name: self.system.url(name) for name in self.system.services}
        return {
            "services": services,
            "edges": sorted(self.system.edges),
            "env": self.experiment.env_text,
        }

    def _on_fault_event(self, event: TimelineEvent) -> None:
        verb = {"apply": "applied", "remove": "removed", "rollback": "rolled back"}[event.action]
        message = f"{verb} {event.description}" + (f": {event.error}" if event.error else "")
        self._event("fault", message, ok=event.ok, at=event.at)

    def _event(self, kind: str, message: str, *, ok: bool = True, at: float | None = None) -> None:
        at = time.time() if at is None else at
        origin = self.anchors.origin
        event = RunEvent(
            at=at,
            offset=None if origin is None else round(at - origin, 3),
            kind=kind,
            message=message,
            ok=ok,
        )
        self.result.events.append(event)
        self.reporter.event(event)

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
        states = {}
        for edge, points in self.recorder.timeline.breaker_states().items():
            if points:
                states[edge] = BREAKER_STATE_NAMES.get(int(points[-1].value), str(points[-1].value))
        return states


def _window_closed(assertion: Assertion, anchors: Anchors, now: float) -> bool:
    window = window_of(assertion.after, assertion.within, assertion.until, anchors)
    return window is not None and window.end is not None and window.end <= now


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
