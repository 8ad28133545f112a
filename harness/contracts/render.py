"""A contracts run for people: the edges covered, each interaction's result, and the
verifier's own report for every provider that failed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.contracts.results import ContractsResult, ProviderResult

__all__ = ["print_coverage", "print_result"]

OK = "[green]✔[/]"
FAILED = "[bold red]✘[/]"


def print_coverage(result: ContractsResult, *, console: Console) -> None:
    """Every edge of the topology with the pacts (and HTTP interactions) covering it."""
    table = Table(title="edges covered by pacts", title_justify="left")
    table.add_column("edge")
    table.add_column("pact")
    table.add_column("interactions", justify="right")
    table.add_column("")
    for row in result.coverage:
        mark = OK if row.covered else FAILED
        table.add_row(row.edge, ", ".join(row.pacts) or "-", str(row.interactions), mark)
    console.print(table)
    if result.other_pacts:
        console.print("pacts beside the call edges:")
        for line in result.other_pacts:
            console.print(f"  {line}", markup=False)
    for note in result.notes:
        console.print(Text.assemble(("note: ", "yellow"), note))


def print_result(result: ContractsResult, *, console: Console) -> None:
    """Per-interaction results per provider, failures in full, then the verdict and figures."""
    for provider in result.providers:
        _print_provider(provider, console)
    print_coverage(result, console=console)
    figures = result.figures
    console.print(
        f"{figures.get('interactions_passed', 0)}/{figures.get('interactions', 0)} interactions "
        f"passed across {figures.get('providers', 0)} providers; "
        f"{figures.get('edges_covered', 0)}/{figures.get('edges', 0)} edges covered; "
        f"verification {figures.get('verification_seconds', 0)} s, "
        f"start-up {figures.get('startup_seconds', 0)} s"
    )
    for provider in result.providers:
        if not provider.passed:
            console.print(
                Text.assemble(("FAILED ", "bold red"), f"{provider.provider}: "),
                Text(provider.first_failure or ""),
                sep="",
            )
    verdict = "[bold green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
    report = f"  report: {result.report_path}" if result.report_path else ""
    console.print(f"{verdict}{report}")


def _print_provider(provider: ProviderResult, console: Console) -> None:
    table = Table(
        title=f"{provider.provider} ({provider.source}, {provider.seconds} s)",
        title_justify="left",
    )
    table.add_column("consumer")
    table.add_column("interaction")
    table.add_column("given")
    table.add_column("")
    for item in provider.interactions:
        mark = OK if item.passed else ("[yellow]pending[/]" if item.pending else FAILED)
        detail = Text(item.description)
        for line in item.mismatches:
            detail.append(f"\n  {line}", style="red")
        table.add_row(Text(item.consumer), detail, Text(", ".join(item.states) or "-"), mark)
    console.print(table)
    if not provider.passed:
        console.print(
            Text.assemble((f"{provider.provider} failed verification", "bold red"), ": "),
            Text(provider.first_failure or ""),
            sep="",
        )
        if provider.output:
            console.print("verifier output:")
            console.print(provider.output, markup=False, highlight=False)
