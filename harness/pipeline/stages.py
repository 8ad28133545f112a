"""The four stages: each calls its layer's public API and turns the result into a `StageResult`.

Every stage starts the system it needs and stops it (a fresh system per stage keeps fuzz
data out of the chaos invariants and costs about 3 s); the layers own how. The conversions
(`contracts_stage`, `fuzz_stage`, `chaos_stage`, `load_stage`) are shared with the stage
commands, so `harness run` and `harness chaos run` report a check the same way (verdict,
JUnit XML).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.pipeline.model import PipelineOptions, StageCheck, StageName, StageResult
from harness.topology import Topology

if TYPE_CHECKING:
    from harness.chaos.result import ExperimentResult
    from harness.contracts.results import ContractsResult, InteractionResult
    from harness.fuzz.results import FailureReport, FuzzResult, PassResult
    from harness.load.summary import LoadSummary
    from harness.pipeline.inputs import StageInputs

__all__ = [
    "STAGES",
    "StageContext",
    "StageRunner",
    "chaos_stage",
    "contracts_stage",
    "fuzz_stage",
    "load_stage",
    "run_chaos",
    "run_contracts",
    "run_explore",
    "run_fuzz",
    "run_load",
]


class StageContext:
    """What every stage receives: the options, the resolved inputs, the parsed topology, its
    own output folder."""

    def __init__(
        self,
        *,
        options: PipelineOptions,
        inputs: StageInputs,
        topology: Topology,
        out_dir: Path,
        console: Console,
    ) -> None:
        self.options = options
        self.inputs = inputs
        self.topology = topology
        self.out_dir = out_dir
        self.console = console


# -- contracts ---------------------------------------------------------------------------


def _interaction_check(interaction: InteractionResult) -> StageCheck:
    given = f" (given {'; '.join(interaction.states)})" if interaction.states else ""
    if interaction.passed:
        detail = "verified"
    else:
        mismatches = list(interaction.mismatches) or ["failed, with no mismatch reported"]
        detail = "\n".join(mismatches)
    return StageCheck(
        name=f"{interaction.description}{given}",
        group=f"{interaction.consumer} -> {interaction.provider}",
        passed=interaction.passed,
        detail=detail,
        seconds=interaction.seconds,
    )


def contracts_stage(result: ContractsResult) -> StageResult:
    """A check per interaction; a provider that could not be verified is an error check."""
    checks: list[StageCheck] = []
    for provider in result.providers:
        checks += [_interaction_check(i) for i in provider.interactions]
        if provider.error and not provider.passed:
            checks.append(
                StageCheck(
                    name=f"verify {provider.provider}",
                    group=provider.provider,
                    passed=False,
                    detail=f"{provider.error}\n\n{provider.output}".strip(),
                    seconds=provider.seconds,
                    error=True,
                )
            )
    interactions = result.interactions
    ok = sum(1 for i in interactions if i.passed)
    if not result.providers:
        return StageResult.skip("contracts", "no pact names a service of this topology")
    return StageResult(
        name="contracts",
        passed=result.passed,
        headline=f"{ok}/{len(interactions)} interactions verified "
        f"across {len(result.providers)} providers",
        checks=checks,
        reports=[("contracts report", result.report_path)] if result.report_path else [],
        figures=dict(result.figures),
        duration=sum(provider.seconds for provider in result.providers),
    )


def run_contracts(ctx: StageContext) -> StageResult:
    from harness.contracts import run_contracts as verify

    result = verify(
        topology=ctx.topology,
        pact_dir=ctx.inputs.pact_dir,
        out_dir=ctx.out_dir,
        progress=lambda line: ctx.console.print(line, markup=False, highlight=False),
    )
    return contracts_stage(result)


# -- fuzz --------------------------------------------------------------------------------


def _fuzz_failure_text(failure: FailureReport) -> str:
    lines = [f"[{failure.code}] {failure.title} ({failure.check}, {failure.phase} phase)", ""]
    lines += [failure.message, "", f"answer: {failure.answer}", "", "reproduce:"]
    lines += [f"  {step}" for step in failure.steps]
    lines.append(f"  {failure.reproduce}")
    if failure.rerun:
        lines += ["rerun:", f"  {failure.rerun}"]
    return "\n".join(lines)


def _pass_checks(outcome: PassResult) -> list[StageCheck]:
    """A check per (operation, check run on it); an operation's measured time is shared by
    the checks judged on its requests."""
    group = f"{outcome.service} ({outcome.name})"
    if outcome.skipped is not None:
        return [StageCheck(name="document", group=group, passed=True, skipped=outcome.skipped)]
    failures: dict[tuple[str, str], list[str]] = {}
    for failure in outcome.failures:
        text = _fuzz_failure_text(failure)
        failures.setdefault((failure.operation, failure.check), []).append(text)
    checks: list[StageCheck] = []
    operations = list(dict.fromkeys([*outcome.operations, *(op for op, _ in failures)]))
    for operation in operations:
        run = dict(outcome.operation_checks.get(operation, {}))
        for op, check in failures:
            if op == operation:
                run.setdefault(check, 1)
        seconds = outcome.operation_seconds.get(operation, 0.0)
        if not run:
            reason = (
                "no request got an answer"
                if operation not in outcome.covered
                else "no check was judged"
            )
            checks.append(
                StageCheck(
                    name=operation, group=group, passed=True, skipped=reason, seconds=seconds
                )
            )
            continue
        for check, count in sorted(run.items()):
            found = failures.get((operation, check))
            checks.append(
                StageCheck(
                    name=f"{operation} {check}",
                    group=group,
                    passed=not found,
                    detail="\n\n".join(found) if found else f"held on {count} cases",
                    seconds=seconds / len(run),
                )
            )
    if outcome.errors:
        checks.append(
            StageCheck(
                name="schemathesis",
                group=group,
                passed=False,
                detail="\n\n".join(outcome.errors),
                error=True,
            )
        )
    return checks


def fuzz_stage(result: FuzzResult) -> StageResult:
    """A check per operation and fuzz check, for every pass; SKIPPED when no pass ran."""
    figures = result.figures
    checks = [check for outcome in result.passes for check in _pass_checks(outcome)]
    reports = [
        (label, path)
        for label, path in (
            ("fuzz report (JSON)", result.report_path),
            ("JUnit XML", result.junit_path),
        )
        if path is not None
    ]
    ran = [p for p in result.passes if p.skipped is None]
    skipped = None
    if not ran:
        reasons = sorted({f"{p.service}: {p.skipped}" for p in result.passes})
        skipped = "no service to fuzz" + (f" ({'; '.join(reasons)})" if reasons else "")
    return StageResult(
        name="fuzz",
        passed=result.passed or skipped is not None,
        headline=skipped
        if skipped
        else f"{figures.operations_covered}/{figures.operations_total} operations, "
        f"{figures.cases} cases, {figures.checks} checks, {figures.failures} failures "
        f"(seed {result.seed})",
        skipped=skipped,
        checks=checks,
        reports=reports,
        duration=result.duration,
        figures={
            "operations_covered": figures.operations_covered,
            "operations_total": figures.operations_total,
            "cases": figures.cases,
            "checks": figures.checks,
            "failures": figures.failures,
            "seed": result.seed,
            "rerun": result.rerun,
        },
    )


def run_fuzz(ctx: StageContext) -> StageResult:
    from harness.fuzz import FuzzOptions
    from harness.fuzz import run_fuzz as fuzz

    options = FuzzOptions(out_dir=ctx.out_dir)
    if ctx.inputs.seed is not None:
        options = replace(options, seed=ctx.inputs.seed)
    if ctx.options.fuzz_max_examples is not None:
        options = replace(options, max_examples=ctx.options.fuzz_max_examples)
    return fuzz_stage(fuzz(ctx.topology, options=options, console=ctx.console))


# -- chaos -------------------------------------------------------------------------------


def _experiment_checks(result: ExperimentResult) -> list[StageCheck]:
    group = result.experiment.title
    replay = f"replay: {result.replay_command}"
    journal = f"\njournal: {result.journal_path}" if result.journal_path else ""
    checks: list[StageCheck] = []
    for probe in result.steady_before + result.steady_after:
        if not probe.result.ok:
            checks.append(
                StageCheck(
                    name=f"steady state: {probe.name}",
                    group=group,
                    passed=False,
                    detail=f"{probe.result.summary}\n{replay}{journal}",
                    link=result.report_path,
                )
            )
    for assertion in result.assertions:
        if assertion.status == "skipped" or assertion.status == "pending":
            checks.append(
                StageCheck(
                    name=assertion.name,
                    group=group,
                    passed=True,
                    skipped=assertion.summary or f"not judged ({assertion.status})",
                )
            )
            continue
        passed = assertion.status == "passed"
        detail = assertion.summary or assertion.expectation
        if not passed:
            detail = f"{detail}\nexpected: {assertion.expectation}\n{replay}{journal}"
        checks.append(
            StageCheck(
                name=assertion.name,
                group=group,
                passed=passed,
                detail=detail,
                seconds=assertion.resolved_at,
                link=result.report_path,
            )
        )
    if not result.passed and (result.reason or result.errors):
        story = "\n".join([result.reason, *result.errors]).strip()
        checks.append(
            StageCheck(
                name="experiment",
                group=group,
                passed=False,
                detail=f"{result.status}: {story}\n{replay}{journal}",
                seconds=result.duration,
                link=result.report_path,
                error=True,
            )
        )
    return checks


def chaos_stage(results: Sequence[ExperimentResult]) -> StageResult:
    """A check per assertion of every experiment (and per broken steady state or abort)."""
    checks = [check for result in results for check in _experiment_checks(result)]
    reports: list[tuple[str, Path]] = []
    for r in results:
        if r.report_path is not None:
            reports.append((f"report: {Path(r.experiment.source).name}", r.report_path))
        if r.journal_path is not None:
            reports.append((f"journal: {Path(r.experiment.source).name}", r.journal_path))
    passed = sum(1 for r in results if r.passed)
    return StageResult(
        name="chaos",
        passed=bool(results) and passed == len(results),
        headline=f"{passed}/{len(results)} experiments passed",
        checks=checks,
        reports=reports,
        duration=sum(r.duration for r in results),
        figures={"experiments": len(results), "passed": passed},
    )


def run_chaos(ctx: StageContext) -> StageResult:
    from harness.chaos.loader import load_experiment
    from harness.chaos.suite import expand_paths, run_suite

    experiments = [load_experiment(path) for path in expand_paths(ctx.inputs.chaos_paths)]
    results = run_suite(
        experiments,
        ctx.topology,
        seed=ctx.inputs.seed,
        journal_dir=ctx.out_dir,
        console=ctx.console,
        live=False,
        parallel=ctx.inputs.chaos_parallel,
        on_result=lambda r: ctx.console.print(
            f"  {'PASS' if r.passed else 'FAIL'} {r.experiment.title} ({r.duration:.0f} s)",
            style="green" if r.passed else "red",
            highlight=False,
        ),
    )
    return chaos_stage(results)


# -- explore -----------------------------------------------------------------------------


def run_explore(ctx: StageContext) -> StageResult:
    """Every edge x fault class of the topology's `[explore]` table (harness.explore)."""
    from harness.explore import ExploreOptions, generate_cells, run_cells
    from harness.explore.matrix import failed_checks, write_heatmap, write_matrix

    topology_path = ctx.options.topology.resolve()
    seed = ctx.inputs.seed if ctx.inputs.seed is not None else 0
    options = ExploreOptions(
        topology=topology_path, out=ctx.out_dir, seed=seed, parallel=ctx.topology.explore.parallel
    )
    results, not_run = run_cells(options, generate_cells(ctx.topology, seed=seed))
    write_matrix(ctx.out_dir, results, seed=seed, not_run=[c.id for c in not_run])
    page = write_heatmap(ctx.out_dir, results, seed=seed)
    checks = [
        StageCheck(
            name=r.cell,
            passed=r.verdict == "pass",
            detail="; ".join(str(c.get("name")) for c in failed_checks(r)) or "all checks held",
            link=Path(r.journal) if r.journal else None,
        )
        for r in results
    ]
    passed = sum(1 for r in results if r.verdict == "pass")
    return StageResult(
        name="explore",
        passed=bool(results) and passed == len(results),
        headline=f"{passed}/{len(results)} cells passed",
        checks=checks,
        reports=[("matrix", page)],
        figures={"cells": len(results), "passed": passed},
    )


# -- load --------------------------------------------------------------------------------


def load_stage(summary: LoadSummary) -> StageResult:
    """A check per SLO, assertion and invariant; each judged the whole run's window."""
    window = max(0.0, summary.ended_at - summary.started_at)
    checks = [
        StageCheck(
            name=check.name,
            group=check.kind,
            passed=check.passed,
            detail=check.detail,
            seconds=window,
        )
        for check in summary.checks
    ]
    total = summary.total
    headline = f"profile {summary.profile}: {sum(c.passed for c in checks)}/{len(checks)} checks"
    if total is not None:
        headline += f", {total.requests} requests, {total.failures} failed"
        if total.p95_ms is not None:
            headline += f", p95 {total.p95_ms:.0f} ms"
    reports = [
        (label, Path(path))
        for label, path in (
            ("load report", summary.report_path),
            ("load summary (JSON)", summary.summary_path),
        )
        if path
    ]
    return StageResult(
        name="load",
        passed=summary.passed,
        headline=headline,
        checks=checks,
        reports=reports,
        duration=window,
        figures={"exit_code": summary.exit_code},
    )


def run_load(ctx: StageContext) -> StageResult:
    from harness.load import run_profile
    from harness.load.profile import load_profile, override

    assert ctx.inputs.load_profile is not None  # a stage without one is skipped
    profile = override(load_profile(ctx.inputs.load_profile), seed=ctx.inputs.seed)
    summary = run_profile(
        profile, topology=ctx.options.topology, out_dir=ctx.out_dir, console=ctx.console
    )
    return load_stage(summary)


StageRunner = Callable[[StageContext], StageResult]

STAGES: dict[StageName, StageRunner] = {
    "contracts": run_contracts,
    "fuzz": run_fuzz,
    "chaos": run_chaos,
    "explore": run_explore,
    "load": run_load,
}
