"""`harness run`: stage selection and order, crashed stages, the verdict, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.pipeline import PipelineOptions, StageCheck, StageResult, run_pipeline
from harness.pipeline.stages import StageContext

TOPOLOGY = """\
[services.api]
command = ["{python}", "-c", "pass"]
"""


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    """A topology with every stage's input at its default place beside it."""
    path = tmp_path / "system.toml"
    path.write_text(TOPOLOGY)
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "web-api.json").write_text("{}")
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "latency.yaml").write_text("title: t\n")
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "smoke.yaml").write_text("users: 1\n")
    return path


def fake_stage(calls: list[str], *, passed: bool = True, report: Path | None = None):  # type: ignore[no-untyped-def]
    def run(ctx: StageContext) -> StageResult:
        calls.append(ctx.out_dir.name)
        checks = [
            StageCheck(name="holds", passed=True, detail="fine"),
            StageCheck(name="breaks", passed=passed, detail="figure 3 > 2"),
        ]
        reports = [("stage report", report)] if report else []
        return StageResult(
            name=ctx.out_dir.name,  # type: ignore[arg-type]
            passed=passed,
            headline=f"{ctx.out_dir.name} ran",
            checks=checks,
            reports=reports,
        )

    return run


def crashing_stage(ctx: StageContext) -> StageResult:
    raise RuntimeError("orders did not become healthy")


def test_only_runs_the_selected_stages_in_pipeline_order(topology: Path, tmp_path: Path) -> None:
    calls: list[str] = []
    stages = {name: fake_stage(calls) for name in ("contracts", "fuzz", "chaos", "load")}
    options = PipelineOptions(topology=topology, only=["load", "contracts"], out_dir=tmp_path / "o")
    result = run_pipeline(options, stages=stages)  # type: ignore[arg-type]
    assert calls == ["contracts", "load"]
    assert [s.name for s in result.stages] == ["contracts", "load"]
    assert result.passed


def test_a_crashed_stage_fails_the_run_and_later_stages_still_run(
    topology: Path, tmp_path: Path
) -> None:
    calls: list[str] = []
    stages = {"contracts": crashing_stage, "fuzz": fake_stage(calls)}
    options = PipelineOptions(topology=topology, only=["contracts", "fuzz"], out_dir=tmp_path / "o")
    result = run_pipeline(options, stages=stages)  # type: ignore[arg-type]
    assert not result.passed
    assert calls == ["fuzz"]
    crashed = result.stages[0]
    assert crashed.error == "RuntimeError: orders did not become healthy"
    assert "Traceback" in (tmp_path / "o" / "contracts" / "error.txt").read_text()


def test_summary_records_verdict_seed_and_versions(topology: Path, tmp_path: Path) -> None:
    stages = {"chaos": fake_stage([], passed=False)}
    options = PipelineOptions(topology=topology, only=["chaos"], seed=42, out_dir=tmp_path / "o")
    result = run_pipeline(options, stages=stages)  # type: ignore[arg-type]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["passed"] is False
    assert summary["seed"] == 42
    assert summary["versions"]["harness"]
    assert summary["stages"][0]["checks"][1] == {
        "name": "breaks",
        "group": "",
        "passed": False,
        "skipped": None,
        "detail": "figure 3 > 2",
        "seconds": None,
        "link": None,
    }
    assert summary["replay"] == f"harness run -t {topology} --only chaos --seed 42"
    assert result.summary_path == tmp_path / "o" / "summary.json"


def test_report_shows_the_verdict_first_failures_first_and_links_stage_reports(
    topology: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    stage_report = out / "chaos" / "exp.html"
    stages = {"chaos": fake_stage([], passed=False, report=stage_report)}
    options = PipelineOptions(topology=topology, only=["chaos"], seed=7, out_dir=out)
    result = run_pipeline(options, stages=stages)  # type: ignore[arg-type]
    assert result.report_path is not None
    page = result.report_path.read_text()
    assert page.index('class="verdict fail">FAIL') < page.index('id="chaos"')
    assert page.index("breaks") < page.index("holds")  # the failed check comes first
    assert 'href="chaos/exp.html"' in page  # relative, so the folder can be moved
    assert "--seed 7" in page


def test_unknown_stage_is_rejected_before_anything_starts(topology: Path) -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        run_pipeline(PipelineOptions(topology=topology, only=["nope"]))  # type: ignore[list-item]


def test_cli_rejects_an_unknown_stage_with_exit_code_2() -> None:
    result = CliRunner().invoke(app, ["run", "--only", "contracts,nope"])
    assert result.exit_code == 2
    assert "unknown stage(s) nope" in result.output


def test_cli_names_a_missing_topology_and_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--topology", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert "none.toml" in result.output


def test_cli_without_a_topology_names_every_place_it_looked_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_TOPOLOGY", raising=False)
    result = CliRunner().invoke(app, ["run", "--only", "load"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "-t/--topology" in text
    assert "$HARNESS_TOPOLOGY" in text
    assert "./system.toml" in text


def test_cli_finds_the_topology_in_harness_topology_then_in_the_current_folder(
    topology: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing runs: a declared-but-missing input is refused after the topology was found.
    monkeypatch.setenv("HARNESS_TOPOLOGY", str(topology))
    result = CliRunner().invoke(app, ["run", "--load-profile", "nowhere.yaml"])
    assert result.exit_code == 2
    assert "nowhere.yaml: no such file" in result.output
    monkeypatch.delenv("HARNESS_TOPOLOGY")
    monkeypatch.chdir(topology.parent)
    result = CliRunner().invoke(app, ["run", "--load-profile", "nowhere.yaml"])
    assert "nowhere.yaml: no such file" in result.output
