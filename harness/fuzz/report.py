"""Readable renderings of a `FuzzResult`: the summary table with the run's figures, each
failure with the commands that reproduce it, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.fuzz.results import FailureReport, FuzzResult

__all__ = ["figures_line", "print_summary", "write_json_report"]


def write_json_report(result: FuzzResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def figures_line(result: FuzzResult) -> str:
    """`operations covered 48/48 · cases generated 5,210 · checks run 66,002 · failures 0`."""
    figures = result.figures
    text = (
        f"operations covered {figures.operations_covered}/{figures.operations_total} · "
        f"cases generated {figures.cases:,} · checks run {figures.checks:,} · "
        f"failures {figures.failures}"
    )
    if figures.errors:
        text += f" · errors {figures.errors}"
    return text


def print_summary(result: FuzzResult, *, console: Console) -> None:
    """The per-pass table, every failure with its reproduction, the figures and the verdict."""
    table = Table(title=f"fuzzing (seed {result.seed}, max examples {result.max_examples})")
    for column in ("service", "pass", "operations", "cases", "checks", "failures", "time"):
        table.add_column(column, justify="right" if column in ("cases", "checks") else "left")
    for outcome in result.passes:
        figures = outcome.figures
        if outcome.skipped is not None:
            table.add_row(outcome.service, outcome.name, "skipped", "", "", "", "")
            continue
        failures = str(figures.failures + figures.errors)
        table.add_row(
            outcome.service,
            outcome.name,
            f"{figures.operations_covered}/{figures.operations_total}",
            f"{figures.cases:,}",
            f"{figures.checks:,}",
            failures if failures == "0" else f"[red]{failures}[/]",
            f"{outcome.duration:.1f}s",
        )
    console.print(table)
    for outcome in result.passes:
        if outcome.skipped is not None:
            console.print(f"[dim]{outcome.service}: {outcome.skipped}[/]", highlight=False)
        for operation in outcome.uncovered:
            console.print(
                f"[yellow]{outcome.service} ({outcome.name}): {operation} got no answer[/]",
                highlight=False,
            )
    for failure in result.failures:
        print_failure(failure, console=console)
    for error in result.errors:
        console.print(f"[red]error[/] {error}", highlight=False, markup=False)
    console.print(figures_line(result), highlight=False, soft_wrap=True)
    verdict = "[green]passed[/]" if result.passed else "[red]failed[/]"
    console.print(
        f"{verdict} in {result.duration:.1f}s; rerun: {result.rerun}",
        highlight=False,
        soft_wrap=True,
    )
    if result.report_path is not None:
        console.print(
            f"report: {result.report_path}  junit: {result.junit_path}",
            highlight=False,
            soft_wrap=True,
        )


def print_failure(failure: FailureReport, *, console: Console) -> None:
    console.print(
        f"[red]✘[/] {failure.service} ({failure.pass_name}) {failure.operation}: "
        f"{failure.title} [{failure.check}, {failure.phase}]",
        highlight=False,
    )
    console.print(failure.message, highlight=False, markup=False, soft_wrap=True)
    console.print(f"  answer: {failure.answer}", highlight=False, markup=False, soft_wrap=True)
    for step in failure.steps:
        console.print(f"  before: {step}", highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"  reproduce: {failure.reproduce}", highlight=False, markup=False, soft_wrap=True
    )
    console.print(f"  rerun: {failure.rerun}", highlight=False, markup=False, soft_wrap=True)
