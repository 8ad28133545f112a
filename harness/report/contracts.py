"""The contracts page: a contracts run (`contracts.json`) rendered in the shared stack, so the
pipeline's "contracts report" link opens a page that names each failed interaction and its
first mismatch, with the verifier's own output folded underneath."""

from __future__ import annotations

from pathlib import Path

from harness.contracts.results import ContractsResult, InteractionResult
from harness.report.page import CheckRow, Page, render_page

__all__ = ["interaction_rows", "render_contracts_page", "write_contracts_page"]


def interaction_rows(interactions: list[InteractionResult]) -> list[CheckRow]:
    """Interactions as rows of the shared checks table, failures first."""
    ordered = sorted(interactions, key=lambda i: i.passed)
    return [
        CheckRow(
            name=f"{i.consumer} -> {i.provider}: {i.description}",
            status="passed" if i.passed else ("pending" if i.pending else "failed"),
            kind="pending pact" if i.pending else "interaction",
            description=("given " + "; ".join(i.states)) if i.states else "",
            detail="\n".join(i.mismatches) if not i.passed else "verified",
        )
        for i in ordered
    ]


def render_contracts_page(result: ContractsResult, *, source: Path | None = None) -> str:
    interactions = result.interactions
    ok = sum(1 for i in interactions if i.passed)
    page = Page(
        title="Contracts report",
        status="passed" if result.passed else "failed",
        summary=f"{ok} of {len(interactions)} interactions verified across "
        f"{len(result.providers)} providers",
        meta=tuple(f"{key}: {value}" for key, value in result.figures.items()),
        footer=f"JSON: {source}" if source else "",
    )
    providers = [(p, interaction_rows(p.interactions)) for p in result.providers]
    return render_page("contracts.html.j2", page=page, result=result, providers=providers)


def write_contracts_page(json_path: Path, html_path: Path | None = None) -> Path:
    """Render the `contracts.json` at `json_path` beside it (`contracts.html` by default)."""
    result = ContractsResult.model_validate_json(json_path.read_text(encoding="utf-8"))
    target = html_path or json_path.with_suffix(".html")
    target.write_text(render_contracts_page(result, source=json_path), encoding="utf-8")
    return target
