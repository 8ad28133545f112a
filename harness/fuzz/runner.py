"""`run_fuzz`: fuzz every service of a topology that serves an OpenAPI document.

For a running system (started here, or handed in by the caller):

1. the prepare step, if any, puts test data in place;
2. each selected service with an OpenAPI document (its `openapi` convention), callers
   before callees (see `callers_first`), gets an ordinary pass: every phase, every
   built-in check plus the harness's (`keyed_replay`; `error_body_shape` where the service
   declares `error_body` keys), each switchable by its `fuzz_checks` convention; then, for
   every edge `service -> dependency`, a fault pass with that edge partitioned through its
   fault proxy (`dependency_outage_answer` on);
3. report.json and junit.xml are written, and a `FuzzResult` comes back.

A pass is one schemathesis run in this process, on one core. With `parallel` > 1 (the
topology's `[fuzz] parallel`, `--parallel`) and a system to start, services are fuzzed that
many at once, each worker process (`harness.parallel`) on a system of its own, prepared
once and kept for the worker's next service: a service's partitions cut only its worker's
system. Results come back in the same order as one at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from harness.console import make_console
from harness.fuzz.config import (
    FuzzConfigError,
    PassSettings,
    build_config,
    fault_checks,
    service_checks,
    standard_checks,
)
from harness.fuzz.discovery import (
    DocumentLocation,
    DocumentProbe,
    callers_first,
    document_location,
    probe_document,
)
from harness.fuzz.engine import Progress, SchemaLoadError, load_url_schema, run_pass
from harness.fuzz.options import FuzzOptions
from harness.fuzz.prepare import Prepare, PrepareError, load_prepare
from harness.fuzz.progress import fuzz_progress
from harness.fuzz.report import write_json_report
from harness.fuzz.results import FuzzResult, PassResult
from harness.references import rebase_reference
from harness.topology import Topology, env_text, load_topology

if TYPE_CHECKING:
    from harness.runtime import RunningSystem

__all__ = ["FUZZ_PASS", "FuzzPrepareFailed", "FuzzRunError", "fuzz_system", "run_fuzz"]

FUZZ_PASS = "fuzz"
CONFIG_BESIDE_TOPOLOGY = "schemathesis.toml"
DEFAULT_RUNS_DIR = Path("runs/fuzz")


SETTLE_POLL = 0.1  # seconds between reads of a healed edge's breaker


class FuzzRunError(ValueError):
    """Bad input for a fuzzing run (unknown service, unusable config); nothing was fuzzed."""


class FuzzPrepareFailed(RuntimeError):
    """The prepare step raised; nothing was fuzzed."""


def run_fuzz(
    topology: Topology | Path,
    *,
    options: FuzzOptions | None = None,
    system: RunningSystem | None = None,
    backend: str = "process",
    console: Console | None = None,
) -> FuzzResult:
    """Fuzz `topology`'s services; returns the result (see `FuzzResult.passed`, `.figures`,
    `.report_path`, `.junit_path`).

    Keyword-only: `options` (FuzzOptions(); without `schemathesis_config`, a
    `schemathesis.toml` next to the topology file is used when there is one), `system`
    (None: the topology is started with `backend` and stopped at the end; else that running
    system is used and left running), `backend` ("process" or "attach"), `console`
    (progress and notes; default stderr).
    Raises `FuzzRunError` (or `TopologyError`) on bad input, before anything runs.
    """
    options = options or FuzzOptions()
    console = console or make_console(stderr=True)
    if not isinstance(topology, Topology):
        topology = load_topology(topology)
    options = _with_topology_defaults(topology, _with_config_beside(topology, options))
    _check_inputs(topology, options)
    if system is not None:
        return fuzz_system(system, options=options, console=console)
    from harness.runtime import start_system

    locations = {
        service: document_location(topology, service, options.openapi_paths)
        for service in callers_first(topology, options.services)
    }
    if (options.parallel or 1) > 1 and sum(bool(loc.path) for loc in locations.values()) > 1:
        from harness.runtime.backends import backend_named

        if backend_named(backend).independent:
            return _fuzz_in_parallel(topology, locations, options, backend, console)
        console.print(
            f"the {backend} backend has one system: fuzzing one service at a time",
            style="dim",
            highlight=False,
        )
    console.print(f"starting {topology.system.name} ({len(topology.services)} services)")
    with start_system(topology.with_env(options.env), backend=backend) as started:
        return fuzz_system(started, options=options, console=console)


def _with_config_beside(topology: Topology, options: FuzzOptions) -> FuzzOptions:
    """No config given: a `schemathesis.toml` next to the topology file is the system's."""
    if options.schemathesis_config is not None or topology.path is None:
        return options
    beside = topology.path.parent / CONFIG_BESIDE_TOPOLOGY
    return replace(options, schemathesis_config=beside) if beside.is_file() else options


def _with_topology_defaults(topology: Topology, options: FuzzOptions) -> FuzzOptions:
    """The topology's `[fuzz]` table fills what the options leave unset (options win)."""
    fuzz = topology.fuzz
    prepare = options.prepare
    if prepare is None and fuzz.prepare is not None:
        prepare = rebase_reference(fuzz.prepare, topology.base_dir)
    return replace(
        options,
        prepare=prepare,
        settle_seconds=options.settle_seconds or fuzz.settle,
        parallel=options.parallel or fuzz.parallel,
        env={**{k: env_text(v) for k, v in fuzz.env.items()}, **options.env},
    )


def _check_inputs(topology: Topology, options: FuzzOptions) -> None:
    known = set(topology.services)
    unknown = sorted(set(options.services or ()) - known)
    if unknown:
        raise FuzzRunError(
            f"unknown service(s) {', '.join(unknown)}; the topology has {', '.join(sorted(known))}"
        )
    unknown = sorted(set(options.openapi_paths) - known)
    if unknown:
        raise FuzzRunError(f"--openapi-path names unknown service(s) {', '.join(unknown)}")
    for service in options.services or topology.services:
        try:
            _checks(topology, service, options, edge=None)
        except FuzzConfigError as exc:
            raise FuzzRunError(f"services.{service}.conventions.fuzz_checks: {exc}") from None
    # A broken config file or prepare step must stop the run before the system starts.
    try:
        build_config(_settings(options, checks={}), base_file=options.schemathesis_config)
        _prepare_step(options)
    except (FuzzConfigError, PrepareError) as exc:
        raise FuzzRunError(str(exc)) from None


def _prepare_step(options: FuzzOptions) -> Prepare | None:
    if isinstance(options.prepare, str):
        return load_prepare(options.prepare)
    return options.prepare


def fuzz_system(
    system: RunningSystem, *, options: FuzzOptions, console: Console | None = None
) -> FuzzResult:
    """Fuzz a running system (see the module doc); every partition is healed afterwards."""
    console = console or make_console(stderr=True)
    topology = system.topology
    started = time.monotonic()
    result = _new_result(options, topology)
    _prepare(system, options, console)
    for service in callers_first(topology, options.services):
        result.passes += _fuzz_service(system, service, options, console)
    result.duration = time.monotonic() - started
    _write_reports(result, options)
    return result


def _new_result(options: FuzzOptions, topology: Topology) -> FuzzResult:
    return FuzzResult(
        passes=[],
        seed=options.seed,
        max_examples=options.max_examples,
        rerun=options.rerun_command(topology=topology.path),
    )


def _prepare(system: RunningSystem, options: FuzzOptions, console: Console) -> None:
    prepare = _prepare_step(options)
    if prepare is not None:
        console.print("preparing the test data")
        try:
            prepare(system)
        except Exception as exc:
            raise FuzzPrepareFailed(f"the prepare step failed: {exc!r}") from exc


def _fuzz_service(
    system: RunningSystem, service: str, options: FuzzOptions, console: Console
) -> list[PassResult]:
    """`service`'s ordinary pass, then a fault pass per dependency edge (or why none ran)."""
    topology = system.topology
    location = document_location(topology, service, options.openapi_paths)
    if not location.path:
        passes = [_no_document(location, explicit=bool(options.services))]
        _note(console, passes[-1])
        return passes
    probe = probe_document(service, system.url(service), path=location.path)
    if not probe.found:
        passes = [_not_found(location, probe, explicit=bool(options.services))]
        _note(console, passes[-1])
        return passes
    with fuzz_progress(console, f"fuzzing {service}") as progress:
        passes = [_pass(probe, system, options, name=FUZZ_PASS, progress=progress)]
    _note(console, passes[-1])
    if options.fault_passes:
        for edge in topology.dependencies(service):
            passes.append(_fault_pass(probe, system, options, edge.name, console))
    return passes


def _fuzz_in_parallel(
    topology: Topology,
    locations: dict[str, DocumentLocation],
    options: FuzzOptions,
    backend: str,
    console: Console,
) -> FuzzResult:
    """The services of `locations` (in their order), `options.parallel` at once, each worker
    on a system of its own (`_Job`); a service that declares no document starts no system."""
    from harness.parallel import run_each

    services = list(locations)
    undocumented = {
        service: _no_document(location, explicit=bool(options.services))
        for service, location in locations.items()
        if not location.path
    }
    for outcome in undocumented.values():
        _note(console, outcome)
    documented = [service for service in services if service not in undocumented]
    workers = min(options.parallel or 1, len(documented))
    console.print(
        f"fuzzing {len(documented)} services, {workers} at once, each worker on a "
        f"{topology.system.name} of its own ({len(topology.services)} services)",
        highlight=False,
    )
    started = time.monotonic()
    result = _new_result(options, topology)
    job = _Job(topology=topology, options=options, backend=backend, quiet=console.quiet)
    batch = run_each(
        job.run,
        documented,
        parallel=workers,
        # a service with more dependencies has more fault passes: those start first
        longest=lambda service: 1 + len(topology.dependencies(service)),
    )
    fuzzed = dict(zip(batch.ran, batch.results, strict=True))
    for service in services:  # in the order one at a time gives
        result.passes += fuzzed[service] if service in fuzzed else [undocumented[service]]
    result.duration = time.monotonic() - started
    _write_reports(result, options)
    return result


@dataclass(frozen=True, slots=True)
class _Job:
    """What every service of a parallel run is fuzzed with; picklable for worker processes."""

    topology: Topology
    options: FuzzOptions
    backend: str
    quiet: bool

    def run(self, service: str) -> list[PassResult]:
        """Fuzz `service` on this worker's kept system (`harness.runtime.kept`), started and
        prepared for its first service. Progress goes out as plain lines (several workers
        share the terminal), each naming its service."""
        from harness.runtime import start_system
        from harness.runtime.kept import kept_system

        console = make_console(stderr=True, quiet=self.quiet, terminal=False)
        kept = kept_system()
        key = ("fuzz", self.topology.path, self.backend, tuple(sorted(self.options.env.items())))
        system = kept.get(
            key,
            lambda: start_system(self.topology.with_env(self.options.env), backend=self.backend),
        )
        try:
            if kept.cells == 0:
                _prepare(system, self.options, console)
            passes = _fuzz_service(system, service, self.options, console)
        except BaseException:
            kept.close()
            raise
        kept.ran_cell(keep=True)
        return passes


def _settings(
    options: FuzzOptions,
    *,
    checks: dict[str, object],
    base_url: str | None = None,
    fault_pass: bool = False,
) -> PassSettings:
    """An ordinary pass: every phase of `options`; a fault pass: fuzzing, a smaller budget."""
    return PassSettings(
        seed=options.seed,
        max_examples=options.fault_budget if fault_pass else options.max_examples,
        phases=("fuzzing",) if fault_pass else tuple(options.phases),
        checks=checks,
        base_url=base_url,
    )


def _checks(
    topology: Topology, service: str, options: FuzzOptions, *, edge: str | None
) -> dict[str, object]:
    """The checks of a pass over `service` (a fault pass when `edge` is partitioned): the
    service's `error_body` keys, its `fuzz_checks` switches applied."""
    conventions = topology.conventions_for(service)
    if edge is None:
        checks = standard_checks(
            idempotency_header=options.idempotency_header, error_fields=conventions.error_body
        )
    else:
        checks = fault_checks(
            edge=edge,
            idempotency_header=options.idempotency_header,
            outage_statuses=tuple(options.outage_statuses),
            error_fields=conventions.error_body,
        )
    return service_checks(checks, conventions.fuzz_checks)


def _pass(
    probe: DocumentProbe,
    system: RunningSystem,
    options: FuzzOptions,
    *,
    name: str,
    edge: str | None = None,
    progress: Progress | None = None,
) -> PassResult:
    fault_pass = edge is not None
    settings = _settings(
        options,
        checks=_checks(system.topology, probe.service, options, edge=edge),
        base_url=system.url(probe.service),
        fault_pass=fault_pass,
    )
    rerun = options.rerun_command(topology=system.topology.path, service=probe.service)
    try:
        config = build_config(settings, base_file=options.schemathesis_config)
        schema = load_url_schema(probe.url, config=config)
    except (FuzzConfigError, SchemaLoadError) as exc:
        failed = PassResult(service=probe.service, name=name)
        failed.errors.append(str(exc))
        return failed
    return run_pass(schema, service=probe.service, name=name, rerun=rerun, progress=progress)


def _fault_pass(
    probe: DocumentProbe,
    system: RunningSystem,
    options: FuzzOptions,
    edge: str,
    console: Console,
) -> PassResult:
    from harness.faults import FaultProxyError

    name = f"partition {edge}"
    try:
        with (
            system.faults.partitioned(edge),
            fuzz_progress(console, f"{name}: fuzzing") as progress,
        ):
            outcome = _pass(probe, system, options, name=name, edge=edge, progress=progress)
    except FaultProxyError as exc:
        outcome = PassResult(service=probe.service, name=name, skipped=f"cannot partition: {exc}")
    else:
        _settle(system, edge, options.settle_seconds)
    _note(console, outcome)
    return outcome


def _settle(system: RunningSystem, edge: str, seconds: float) -> None:
    """After healing `edge`: up to `seconds` for the caller's breaker to stop refusing calls.

    Where the caller declares a breaker convention, its state is polled and the wait ends
    as soon as it reads anything but open (closed, or half-open: the next pass's first
    calls are its trial calls); else, or when its metrics cannot be read, all of `seconds`."""
    from harness import http_clients
    from harness.observe.breakers import read_breaker
    from harness.observe.metrics import MetricsError
    from harness.topology.edge import Edge

    deadline = time.monotonic() + seconds
    parsed = Edge.parse(edge)
    source, target = parsed.source, parsed.target
    conventions = system.topology.conventions_for(source)
    breaker = conventions.breaker
    if breaker is not None:
        url = str(system.url(source)).rstrip("/") + (conventions.metrics or "/metrics")
        with http_clients.client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                try:
                    reading = read_breaker(url, breaker, source, target, client=client)
                except MetricsError:
                    break  # cannot tell: wait it out
                if reading.state != "open":
                    return
                time.sleep(SETTLE_POLL)
    time.sleep(max(0.0, deadline - time.monotonic()))


def _no_document(location: DocumentLocation, *, explicit: bool) -> PassResult:
    """A service that declares no document (`openapi = ""`): not fuzzed."""
    why = f'no OpenAPI document: its `openapi` convention is ""; set {location.setting} to fuzz it'
    return _not_fuzzed(location.service, why, error=explicit)


def _not_found(location: DocumentLocation, probe: DocumentProbe, *, explicit: bool) -> PassResult:
    """No document where one was expected. Skipped when the path was only the default; a
    document declared (or asked for by name) and missing is an error."""
    if location.declared_by is None:
        why = (
            f"no OpenAPI document at {probe.url} ({probe.reason}); set {location.setting} "
            'to where it is, or "" for none'
        )
        return _not_fuzzed(location.service, why, error=explicit)
    why = (
        f"no OpenAPI document at {probe.url} ({probe.reason}), where {location.declared_by} "
        f"says it is ({location.setting})"
    )
    return _not_fuzzed(location.service, why, error=True)


def _not_fuzzed(service: str, why: str, *, error: bool) -> PassResult:
    outcome = PassResult(service=service, name=FUZZ_PASS)
    if error:
        outcome.errors.append(why)
    else:
        outcome.skipped = why
    return outcome


def _note(console: Console, outcome: PassResult) -> None:
    """One line per pass (plain text: messages may hold brackets rich would take for markup)."""
    if outcome.skipped is not None:
        console.print(
            f"  {outcome.service} ({outcome.name}): skipped, {outcome.skipped}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
        return
    figures = outcome.figures
    mark = Text("ok", "green") if outcome.passed else Text("FAILED", "red")
    console.print(
        Text.assemble(
            "  ",
            mark,
            f" {outcome.service} ({outcome.name}): {figures.operations_covered}/"
            f"{figures.operations_total} operations, {figures.cases} cases, "
            f"{figures.checks} checks, {figures.failures} failures, {figures.errors} errors, "
            f"{outcome.duration:.1f}s",
        ),
        soft_wrap=True,
    )
    for problem in outcome.problems:
        console.print(f"    {problem}", soft_wrap=True, markup=False, highlight=False)


def _write_reports(result: FuzzResult, options: FuzzOptions) -> None:
    out_dir = options.out_dir or DEFAULT_RUNS_DIR / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    result.junit_path = options.junit_path or out_dir / "junit.xml"
    result.report_path = out_dir / "report.json"
    from harness.pipeline.junit import write_junit
    from harness.pipeline.stages import fuzz_stage

    write_junit([fuzz_stage(result)], result.junit_path, name="harness fuzz")
    write_json_report(result, result.report_path)
