"""The four stages: each calls its layer's public API and turns the result into a `StageResult`.

Every stage starts the system it needs and stops it (a fresh system per stage keeps fuzz
data out of the chaos invariants and costs about 3 s); the layers own how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.pipeline.model import PipelineOptions, StageCheck, StageName, StageResult
from harness.topology import Topology

__all__ = [
    "STAGES",
    "StageContext",
    "StageRunner",
    "run_chaos",
    "run_contracts",
    "run_explore",
    "run_fuzz",
    "run_load",
]


class StageContext:
    """What every stage receives: the options, the parsed topology, its own output folder."""

    def __init__(
        self, *, options: PipelineOptions, topology: Topology, out_dir: Path, console: Console
    ) -> None:
        self.options = options
        self.topology = topology
        self.out_dir = out_dir
        self.console = console


def _failed_interactions(failed: list[Any]) -> str:
    return "; ".join(f"{i.description}: {'; '.join(i.mismatches) or 'failed'}" for i in failed)


def run_contracts(ctx: StageContext) -> StageResult:
    from harness.contracts import run_contracts as verify

    result = verify(topology=ctx.topology, pact_dir=ctx.options.pact_dir, out_dir=ctx.out_dir)
    checks = [
        StageCheck(
            name=f"{provider.provider} ({len(provider.interactions)} interactions)",
            passed=provider.passed,
            detail=provider.error or _failed_interactions(provider.failed) or "verified",
        )
        for provider in result.providers
    ]
    interactions = result.interactions
    ok = sum(1 for i in interactions if i.passed)
    return StageResult(
        name="contracts",
        passed=result.passed,
        headline=f"{ok}/{len(interactions)} interactions verified "
        f"across {len(result.providers)} providers",
        checks=checks,
        reports=[("contracts report", result.report_path)] if result.report_path else [],
        figures=dict(result.figures),
    )


def run_fuzz(ctx: StageContext) -> StageResult:
    from harness.fuzz import FuzzOptions
    from harness.fuzz import run_fuzz as fuzz

    options = FuzzOptions(out_dir=ctx.out_dir)
    if ctx.options.seed is not None:
        options = replace(options, seed=ctx.options.seed)
    if ctx.options.fuzz_max_examples is not None:
        options = replace(options, max_examples=ctx.options.fuzz_max_examples)
    result = fuzz(ctx.topology, options=options, console=ctx.console)
    figures = result.figures
    checks = [
        StageCheck(
            name=f"{p.service}: {p.name}",
            passed=p.passed,
            detail=p.skipped or f"{len(p.failures)} failures, {p.cases} cases",
        )
        for p in result.passes
    ]
    checks += [
        StageCheck(
            name=f"{f.service} {f.operation}: {f.title}",
            passed=False,
            detail=f"{f.message}\nreproduce: {f.reproduce}\nrerun: {f.rerun}",
        )
        for f in result.failures
    ]
    reports = [
        (label, path)
        for label, path in (
            ("fuzz report (JSON)", result.report_path),
            ("JUnit XML", result.junit_path),
        )
        if path is not None
    ]
    return StageResult(
        name="fuzz",
        passed=result.passed,
        headline=f"{figures.operations_covered}/{figures.operations_total} operations, "
        f"{figures.cases} cases, {figures.checks} checks, {figures.failures} failures "
        f"(seed {result.seed})",
        checks=checks,
        reports=reports,
        figures={
            "operations_covered": figures.operations_covered,
            "operations_total": figures.operations_total,
            "cases": figures.cases,
            "checks": figures.checks,
            "failures": figures.failures,
            "seed": result.seed,
        },
    )


def run_chaos(ctx: StageContext) -> StageResult:
    from harness.chaos.loader import load_experiment
    from harness.chaos.suite import expand_paths, run_suite

    experiments = [load_experiment(path) for path in expand_paths(list(ctx.options.chaos_paths))]
    results = run_suite(
        experiments,
        ctx.topology,
        seed=ctx.options.seed,
        journal_dir=ctx.out_dir,
        console=ctx.console,
        live=False,
        on_result=lambda r: ctx.console.print(
            f"  {'PASS' if r.passed else 'FAIL'} {r.experiment.title} ({r.duration:.0f} s)",
            style="green" if r.passed else "red",
            highlight=False,
        ),
    )
    checks = [
        StageCheck(
            name=r.experiment.title,
            passed=r.passed,
            detail=f"{r.duration:.0f} s; "
            + (
                "all assertions held"
                if r.passed
                else r.reason or "; ".join(a.name for a in r.assertions if a.status == "failed")
            ),
            link=r.report_path,
        )
        for r in results
    ]
    reports = [
        (f"journal: {Path(r.experiment.source).name}", r.journal_path)
        for r in results
        if r.journal_path is not None
    ]
    passed = sum(1 for r in results if r.passed)
    return StageResult(
        name="chaos",
        passed=bool(results) and passed == len(results),
        headline=f"{passed}/{len(results)} experiments passed",
        checks=checks,
        reports=reports,
        figures={"experiments": len(results), "passed": passed},
    )


def run_explore(ctx: StageContext) -> StageResult:
    """Every edge x fault class of the topology's `[explore]` table (harness.explore)."""
    from harness.explore import ExploreOptions, generate_cells, run_cells
    from harness.explore.matrix import failed_checks, write_heatmap, write_matrix

    topology_path = ctx.options.topology.resolve()
    seed = ctx.options.seed if ctx.options.seed is not None else ctx.topology.pipeline.seed or 0
    options = ExploreOptions(topology=topology_path, out=ctx.out_dir, seed=seed)
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


def run_load(ctx: StageContext) -> StageResult:
    from harness.load import run_profile

    summary = run_profile(
        ctx.options.load_profile, topology=ctx.options.topology, out_dir=ctx.out_dir
    )
    checks = [
        StageCheck(name=check.name, passed=check.passed, detail=check.detail)
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
        figures={"exit_code": summary.exit_code},
    )


StageRunner = Callable[[StageContext], StageResult]

STAGES: dict[StageName, StageRunner] = {
    "contracts": run_contracts,
    "fuzz": run_fuzz,
    "chaos": run_chaos,
    "explore": run_explore,
    "load": run_load,
}
