"""What each stage runs on: the options, else `[pipeline]`, else beside the topology; a
stage with nothing to run is SKIPPED with the reason and counts neither way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.pipeline import PipelineOptions, StageResult, run_pipeline
from harness.pipeline.inputs import StageInputs
from harness.pipeline.stages import StageContext
from harness.topology import load_topology

SERVICE = '[services.api]\ncommand = ["{python}", "-c", "pass"]\n'


def write_topology(folder: Path, pipeline: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "system.toml"
    path.write_text(SERVICE + (f"\n[pipeline]\n{pipeline}" if pipeline else ""))
    return path


def resolve(path: Path, **options: object) -> StageInputs:
    return StageInputs.resolve(PipelineOptions(topology=path, **options), load_topology(path))  # type: ignore[arg-type]


def test_inputs_declared_in_the_pipeline_table_are_relative_to_the_topology_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "contracts" / "pacts").mkdir(parents=True)
    (tmp_path / "contracts" / "pacts" / "web-api.json").write_text("{}")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "latency.yml").write_text("title: t\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ci.yaml").write_text("users: 1\n")
    path = write_topology(
        tmp_path / "system",
        'pacts = "../contracts/pacts"\nexperiments = "../experiments"\n'
        'load_profile = "../profiles/ci.yaml"\nstages = ["load", "chaos", "contracts"]\nseed = 9\n',
    )
    inputs = resolve(path)
    assert inputs.stages == ["contracts", "chaos", "load"]
    assert inputs.seed == 9
    assert inputs.pact_dir == tmp_path / "contracts" / "pacts"
    assert inputs.chaos_paths == (tmp_path / "experiments",)
    assert inputs.load_profile == tmp_path / "profiles" / "ci.yaml"
    assert inputs.skip == {}
    # The command line wins over the table.
    assert resolve(path, only=["chaos"], seed=3).stages == ["chaos"]
    assert resolve(path, only=["chaos"], seed=3).seed == 3


def test_defaults_are_looked_for_beside_the_topology_not_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "smoke.yaml").write_text("users: 1\n")  # in the cwd: not used
    here = tmp_path / "mine"
    path = write_topology(here)
    (here / "chaos").mkdir()
    (here / "chaos" / "a.yaml").write_text("title: t\n")
    inputs = resolve(path)
    assert inputs.chaos_paths == (here / "chaos",)
    assert inputs.load_profile is None
    assert inputs.skip["load"] == (
        f"no load profile: [pipeline] load_profile is not set and {here / 'load/smoke.yaml'} "
        "does not exist"
    )
    assert "no pacts" in inputs.skip["contracts"]
    assert "fuzz" not in inputs.skip
    assert "chaos" not in inputs.skip


def test_an_input_declared_but_missing_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = write_topology(tmp_path, 'load_profile = "load/ci.yaml"\n')
    with pytest.raises(ValueError, match=r"\[pipeline\] load_profile: .*load/ci.yaml does not"):
        resolve(path)
    with pytest.raises(ValueError, match="unknown stage"):
        resolve(write_topology(tmp_path / "b", 'stages = ["contracts", "soak"]\n'))


def test_an_empty_folder_is_nothing_to_run(tmp_path: Path) -> None:
    path = write_topology(tmp_path)
    (tmp_path / "pacts").mkdir()
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "README.md").write_text("not an experiment")
    skip = resolve(path).skip
    assert skip["contracts"] == f"no pact files (*.json) in {tmp_path / 'pacts'}"
    assert skip["chaos"] == f"no experiment files (*.yaml, *.yml) in {tmp_path / 'chaos'}"


def passing(ctx: StageContext) -> StageResult:
    return StageResult(name=ctx.out_dir.name, passed=True, headline="ran")  # type: ignore[arg-type]


def failing(ctx: StageContext) -> StageResult:
    return StageResult(name=ctx.out_dir.name, passed=False, headline="broke")  # type: ignore[arg-type]


def test_a_skipped_stage_is_not_run_and_does_not_change_the_verdict(tmp_path: Path) -> None:
    path = write_topology(tmp_path)
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "a.yaml").write_text("title: t\n")
    out = tmp_path / "out"
    stages = {"contracts": failing, "chaos": passing, "load": failing}
    result = run_pipeline(
        PipelineOptions(topology=path, only=["contracts", "chaos", "load"], out_dir=out),
        stages=stages,  # type: ignore[arg-type]
    )
    assert [s.status for s in result.stages] == ["skipped", "passed", "skipped"]
    assert result.passed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["stages"][0]["status"] == "skipped"
    assert summary["stages"][0]["skipped"].startswith("no pacts")
    page = (out / "report.html").read_text()
    assert '<span class="badge skipped">skipped</span> contracts' in page
    assert "no load profile" in page
    assert not (out / "contracts").exists()  # it never started


def test_a_run_where_every_stage_was_skipped_does_not_pass(tmp_path: Path) -> None:
    path = write_topology(tmp_path)
    result = run_pipeline(
        PipelineOptions(topology=path, only=["contracts", "load"], out_dir=tmp_path / "o"),
        stages={"contracts": passing, "load": passing},  # type: ignore[arg-type]
    )
    assert [s.status for s in result.stages] == ["skipped", "skipped"]
    assert not result.passed


def test_inputs_of_stages_not_selected_are_not_looked_at(tmp_path: Path) -> None:
    path = write_topology(tmp_path, 'pacts = "gone"\nload_profile = "gone.yaml"\n')
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "a.yaml").write_text("title: t\n")
    inputs = resolve(path, only=["chaos"])
    assert inputs.chaos_paths == (tmp_path / "chaos",)
    assert inputs.pact_dir is None
    assert inputs.skip == {}
