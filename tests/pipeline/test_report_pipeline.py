"""The combined report and the contracts page, in the shared report stack."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harness.contracts.results import ContractsResult, InteractionResult, ProviderResult
from harness.pipeline import PipelineOptions, StageCheck, StageResult, run_pipeline
from harness.pipeline.stages import StageContext
from harness.report.contracts import render_contracts_page

MISMATCH = "$.status: expected 200 but was 202"


def contracts_result(report_path: Path | None = None) -> ContractsResult:
    bad = InteractionResult(
        consumer="orders",
        provider="notifications",
        description="an order event the notifications service finds duplicate",
        states=("event 7 was seen",),
        passed=False,
        mismatches=(MISMATCH,),
    )
    good = InteractionResult(
        consumer="orders", provider="notifications", description="a new event", passed=True
    )
    return ContractsResult(
        passed=False,
        providers=[
            ProviderResult(
                provider="notifications",
                source="pacts/orders-notifications.json",
                passed=False,
                interactions=[good, bad],
                output="Failures:\n1) " + "x" * 400,
                error="Failed to execute verifier for VerifierHandle(0x7f)",
            )
        ],
        coverage=[],
        report_path=report_path,
    )


def test_the_contracts_page_names_the_failed_interaction_and_its_mismatch_first() -> None:
    page = render_contracts_page(contracts_result())
    assert '<div class="verdict failed">' in page
    assert "1 of 2 interactions verified" in page
    first_row = page.index("finds duplicate")
    assert first_row < page.index("a new event")  # failures first
    assert page.index(MISMATCH) > first_row
    assert "given event 7 was seen" in page
    assert "<details open><summary>the verifier's output</summary>" in page


def test_the_pipeline_links_the_contracts_page_not_the_json(tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text('[services.api]\ncommand = ["python", "-c", "pass"]\n')
    (tmp_path / "pacts").mkdir()  # the stage has something to verify, so it is not skipped
    (tmp_path / "pacts" / "web-api.json").write_text("{}")

    def contracts(ctx: StageContext) -> StageResult:
        path = ctx.out_dir / "contracts.json"
        path.write_text(contracts_result(path).model_dump_json())
        return StageResult(
            name="contracts",
            passed=False,
            headline="1/2 interactions verified",
            checks=[StageCheck(name="notifications", passed=False, detail=MISMATCH)],
            reports=[("contracts report", path)],
        )

    out = io.StringIO()
    options = PipelineOptions(topology=topology, only=["contracts"], out_dir=tmp_path / "o")
    result = run_pipeline(
        options,
        stages={"contracts": contracts},  # type: ignore[dict-item]
        console=Console(file=out, width=200),
    )
    assert result.report_path is not None
    page = result.report_path.read_text()
    assert 'href="contracts/contracts.html">contracts report</a>' in page
    assert 'href="contracts/contracts.json">contracts report (JSON)</a>' in page
    contracts_page = (tmp_path / "o" / "contracts" / "contracts.html").read_text()
    assert MISMATCH in contracts_page
    assert f"contracts report: {tmp_path / 'o' / 'contracts' / 'contracts.json'}" in (
        out.getvalue()
    )
    assert '<div class="verdict failed">' in page
    assert '<span class="badge failed">failed</span>' in page
