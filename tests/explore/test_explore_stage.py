"""`harness run` includes explore as a stage when asked (not by default)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console

from harness.pipeline import STAGE_NAMES, PipelineOptions, run_pipeline
from harness.pipeline.model import parse_stages

APPS = Path(__file__).parent / "apps"


def test_explore_is_a_stage_but_not_a_default_one() -> None:
    assert "explore" not in STAGE_NAMES
    assert parse_stages(["load", "explore", "chaos"]) == ["chaos", "explore", "load"]


def test_the_explore_stage_runs_the_declared_fault_classes(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    shutil.copytree(APPS, apps)
    topology = apps / "system.toml"
    topology.write_text(topology.read_text() + 'faults = ["partition"]\n')
    result = run_pipeline(
        PipelineOptions(topology=topology, only=["explore"], seed=2, out_dir=tmp_path / "run"),
        console=Console(file=(tmp_path / "console.txt").open("w")),
    )
    (stage,) = result.stages
    assert stage.name == "explore"
    assert stage.passed, stage.headline
    assert stage.headline == "1/1 cells passed"
    matrix = json.loads((tmp_path / "run" / "explore" / "matrix.json").read_text())
    assert [cell["cell"] for cell in matrix["cells"]] == ["front->store:partition"]
