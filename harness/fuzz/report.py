"""Readable renderings of a `FuzzResult`: the summary table with the run's figures, each
failure with the commands that reproduce it, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

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
    """The per-pass table, every failure with its reproduction, the figures and the verdict.

    The failure count is the same everywhere (table total, figures line, report.json,
    JUnit): distinct failures; problems that stopped part of a pass (spec errors, network
    errors, a missing document) are counted apart, as errors.
    """
    table = Table(title=f"fuzzing (seed {result.seed}, max examples {result.max_examples})")
    columns = ("service", "pass", "operations", "cases", "checks", "failures", "errors", "time")
    for column in columns:
        table.add_column(column, justify="right" if column in ("cases", "checks") else "left")
    for outcome in result.passes:
        figures = outcome.figures
        if outcome.skipped is not None:
            table.add_row(outcome.service, outcome.name, "skipped", "", "", "", "", "")
            continue
        table.add_row(
            outcome.service,
            outcome.name,
            f"{figures.operations_covered}/{figures.operations_total}",
            f"{figures.cases:,}",
            f"{figures.checks:,}",
            _count(figures.failures),
            _count(figures.errors),
            f"{outcome.duration:.1f}s",
        )
    console.print(table)
    for outcome in result.passes:
        if outcome.skipped is not None:
            console.print(Text(f"{outcome.service}: skipped, {outcome.skipped}", style="dim"))
        for operation in outcome.uncovered:
            console.print(
                Text(f"{outcome.service} ({outcome.name}): {operation} got no answer", "yellow")
            )
    for failure in result.failures:
        print_failure(failure, console=console)
    for error in result.errors:
        console.print(Text.assemble(("error ", "red"), error), soft_wrap=True)
    console.print(figures_line(result), highlight=False, soft_wrap=True, markup=False)
    verdict = Text("passed", "green") if result.passed else Text("failed", "red")
    console.print(
        Text.assemble(verdict, f" in {result.duration:.1f}s; rerun: {result.rerun}"),
        soft_wrap=True,
    )
    if result.report_path is not None:
        console.print(
            f"report: {result.report_path}  junit: {result.junit_path}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


def _count(value: int) -> Text:
    return Text(str(value), style="red" if value else "")


def print_failure(failure: FailureReport, *, console: Console) -> None:
    console.print(
        Text.assemble(
            ("✘ ", "red"),
            f"{failure.service} ({failure.pass_name}) {failure.operation}: "
            f"{failure.title} [{failure.check}, {failure.phase}]",
        ),
        soft_wrap=True,
    )
    console.print(failure.message, highlight=False, markup=False, soft_wrap=True)
    console.print(f"  answer: {failure.answer}", highlight=False, markup=False, soft_wrap=True)
    for step in failure.steps:
        console.print(f"  before: {step}", highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"  reproduce: {failure.reproduce}", highlight=False, markup=False, soft_wrap=True
    )
    console.print(f"  rerun: {failure.rerun}", highlight=False, markup=False, soft_wrap=True)
