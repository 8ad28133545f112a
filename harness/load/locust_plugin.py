"""The harness's side of a Locust run: loaded into Locust next to the locustfile.

The runner starts `locust -f <locustfile>,<this file> ...`; this module is never imported
in the harness (or pytest) process, because importing Locust monkey-patches the process
with gevent. It does four things, configured through environment variables:

- `HARNESS_LOAD_HISTORY`: append one JSON line (a `HistoryTick`) every
  `HARNESS_LOAD_INTERVAL` seconds (default 1) with each request name's requests, failures
  and latency histogram for that interval; the runner tails it for progress and plots.
- `HARNESS_LOAD_RESULT`: write the final `LocustResult` as JSON when Locust quits.
- `HARNESS_LOAD_STAGES`: a JSON list of `{duration, users, spawn_rate}` run as a
  LoadTestShape (stepped load); absent, `-u/-r/-t` apply.
- `HARNESS_LOAD_SEED`: seeds Python's `random` in every Locust process, so the
  locustfile's random choices repeat from run to run (their interleaving still varies).
- `HARNESS_LOAD_PROFILE`: a profile file whose SLOs set Locust's exit code (0 met, 1 missed),
  so a hand-run master is a gate too. Without it the exit code is 0 once results are written
  (Locust would otherwise exit 1 on any failed request; the harness runner decides).

Only the master (or a standalone runner) records; workers just run users.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape, events
from locust.env import Environment
from locust.exception import CatchResponseError
from locust.runners import WorkerRunner
from locust.stats import StatsError

from harness.load.results import (
    ErrorStats,
    HistoryTick,
    LocustResult,
    RequestStats,
    TickEntry,
    request_key,
)

log = logging.getLogger("harness.load")

RESULT_ENV = "HARNESS_LOAD_RESULT"
HISTORY_ENV = "HARNESS_LOAD_HISTORY"
INTERVAL_ENV = "HARNESS_LOAD_INTERVAL"
STAGES_ENV = "HARNESS_LOAD_STAGES"
PROFILE_ENV = "HARNESS_LOAD_PROFILE"
SEED_ENV = "HARNESS_LOAD_SEED"


class HarnessStages(LoadTestShape):
    """Stepped load from `HARNESS_LOAD_STAGES`; abstract (unused) when it is not set."""

    abstract = STAGES_ENV not in os.environ

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages: list[dict[str, float]] = json.loads(os.environ.get(STAGES_ENV, "[]"))

    def tick(self) -> tuple[int, float] | None:
        run_time = self.get_run_time()  # type: ignore[no-untyped-call]
        elapsed = 0.0
        for stage in self.stages:
            elapsed += float(stage["duration"])
            if run_time < elapsed:
                return int(stage["users"]), float(stage["spawn_rate"])
        return None


class _Recorder:
    """Per-interval deltas of Locust's cumulative stats, written as HistoryTicks."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.history_path = _path(HISTORY_ENV)
        self.interval = float(os.environ.get(INTERVAL_ENV, "1.0"))
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.ticks: list[HistoryTick] = []
        self._previous: dict[str, tuple[int, int, dict[int, int]]] = {}
        self._greenlet: gevent.Greenlet | None = None

    def on_start(self) -> None:
        if self.started_at is not None:
            return
        self.started_at = time.time()
        self.tick()  # a first, empty tick: the runner's signal that load began
        self._greenlet = gevent.spawn(self._loop)

    def on_stop(self) -> None:
        self.stopped_at = time.time()

    def _loop(self) -> None:
        while True:
            gevent.sleep(self.interval)
            self.tick()

    def tick(self) -> None:
        entries: dict[str, TickEntry] = {}
        for entry in self.environment.stats.entries.values():
            key = request_key(entry.method or "", entry.name)
            histogram = dict(entry.response_times)
            requests, failures = entry.num_requests, entry.num_failures
            prev_requests, prev_failures, prev_hist = self._previous.get(key, (0, 0, {}))
            self._previous[key] = (requests, failures, histogram)
            delta = {ms: n - prev_hist.get(ms, 0) for ms, n in histogram.items()}
            delta = {ms: n for ms, n in delta.items() if n > 0}
            if requests - prev_requests or failures - prev_failures:
                entries[key] = TickEntry(
                    requests=requests - prev_requests,
                    failures=failures - prev_failures,
                    histogram=delta,
                )
        runner = self.environment.runner
        users = runner.user_count if runner is not None else 0
        tick = HistoryTick(t=time.time(), users=users, entries=entries)
        self.ticks.append(tick)
        if self.history_path is not None:
            with self.history_path.open("a", encoding="utf-8") as out:
                out.write(tick.model_dump_json() + "\n")

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def result(self) -> LocustResult:
        stats = self.environment.stats
        requests = [
            RequestStats(
                method=entry.method or "",
                name=entry.name,
                requests=entry.num_requests,
                failures=entry.num_failures,
                avg_ms=float(entry.avg_response_time),
                min_ms=float(entry.min_response_time or 0),
                max_ms=float(entry.max_response_time),
                histogram=dict(entry.response_times),
            )
            for entry in stats.entries.values()
        ]
        errors = [
            ErrorStats(
                method=error.method or "",
                name=error.name,
                error=describe_error(error.error),
                occurrences=error.occurrences,
            )
            for error in stats.errors.values()
        ]
        now = time.time()
        user_classes = sorted(cls.__name__ for cls in (self.environment.user_classes or []))
        return LocustResult(
            started_at=self.started_at or now,
            ended_at=self.stopped_at or now,
            requests=sorted(requests, key=lambda r: r.key),
            errors=errors,
            history=self.ticks,
            interval=self.interval,
            user_classes=user_classes,
        )


_CATCH_RESPONSE = re.compile(r"CatchResponseError\((['\"])(.*)\1\)", re.DOTALL)
_CATCH_STATUS = re.compile(r"CatchResponseError\((\d{3})\)")
_BAD_STATUS = re.compile(r"LocustBadStatusCode\(code=(\d{3})\)")
_HTTP_ERROR = re.compile(r"HTTPError\((['\"])(\d{3}) [^:]*: (.*?) for url: .*\1\)", re.DOTALL)
_OS_ERROR = re.compile(r"(\w+Error)\(\d+, (['\"])(.*)\2\)", re.DOTALL)


def describe_error(error: object) -> str:
    """A failed request's error in words: the HTTP status and its reason, or the message
    the locustfile gave, or the connection error; never an exception's repr.

    `response.failure("503 Service Unavailable ...")` shows that message (not
    `CatchResponseError('...')`), `response.failure(response.status_code)` shows
    `HTTP 200 OK, marked failed by the locustfile`, an unexpected status
    (`LocustBadStatusCode(code=404)`, requests' `HTTPError`) shows `HTTP 404 Not Found`.
    Workers send errors as those reprs, so the text is read, not the type."""
    if isinstance(error, CatchResponseError) and error.args:
        message = error.args[0]
        if isinstance(message, int) or (isinstance(message, str) and message.isdigit()):
            return _marked_failed(int(message))
        return str(message)
    text = StatsError.parse_error(error)  # type: ignore[arg-type]
    if match := _CATCH_STATUS.fullmatch(text):
        return _marked_failed(int(match.group(1)))
    if match := _CATCH_RESPONSE.fullmatch(text):
        inner = match.group(2)
        return _marked_failed(int(inner)) if inner.isdigit() else inner
    if match := _BAD_STATUS.fullmatch(text):
        return _status_text(int(match.group(1)))
    if match := _HTTP_ERROR.fullmatch(text):
        return _status_text(int(match.group(2)))
    if match := _OS_ERROR.fullmatch(text):
        return f"{match.group(1)}: {match.group(3)}"
    return text


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _marked_failed(status: int) -> str:
    return f"{_status_text(status)}, marked failed by the locustfile"


def _path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


_recorder: _Recorder | None = None


def _on_init(environment: Environment, **_: Any) -> None:
    global _recorder
    seed = os.environ.get(SEED_ENV)
    if seed:
        random.seed(int(seed))
    if isinstance(environment.runner, WorkerRunner):
        return
    _recorder = _Recorder(environment)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if _recorder is not None:
        _recorder.on_start()


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if _recorder is not None:
        _recorder.on_stop()


def _on_quitting(environment: Environment, **_: Any) -> None:
    if _recorder is None:
        return
    _recorder.stop()
    _recorder.tick()  # the last partial interval (and the workers' final reports)
    result = _recorder.result()
    path = _path(RESULT_ENV)
    if path is not None:
        path.write_text(result.model_dump_json(), encoding="utf-8")
    environment.process_exit_code = _slo_exit_code(result)


def _slo_exit_code(result: LocustResult) -> int:
    profile_path = _path(PROFILE_ENV)
    if profile_path is None:
        return 0
    from harness.load.profile import load_profile
    from harness.load.verdict import evaluate_slos

    checks = evaluate_slos(load_profile(profile_path).slos, result)
    for check in checks:
        log.log(logging.INFO if check.passed else logging.ERROR, "SLO %s", check.detail)
    return 0 if all(check.passed for check in checks) else 1


# Registered without decorators: Locust's hooks are untyped.
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_on_test_stop)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]
