"""`harness chaos validate|run`: exit codes and messages for bad input (nothing started)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness.chaos.cli import app
from harness.chaos.suite import expand_paths

GOOD = "title: t\nmethod:\n  faults: []\n"


def test_validate_lists_every_good_experiment(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text(GOOD.replace("t\n", "u\n", 1), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an experiment", encoding="utf-8")
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert outcome.exit_code == 0, outcome.output
    assert "a.yaml: t" in outcome.output
    assert "b.yml: u" in outcome.output
    assert "notes" not in outcome.output


def test_validate_reports_every_bad_file_with_its_key_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad1.yaml").write_text("title: t\n", encoding="utf-8")
    (tmp_path / "bad2.yaml").write_text(
        "title: t\nmethod: {faults: [{edge: a->b, toxic: lag}]}\n", encoding="utf-8"
    )
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "bad1.yaml: method: Field required" in outcome.output
    assert "bad2.yaml: method.faults.0: unknown toxic 'lag'" in outcome.output


def test_run_with_a_malformed_topology_starts_nothing_and_exits_2(tmp_path: Path) -> None:
    experiment = tmp_path / "a.yaml"
    experiment.write_text(GOOD, encoding="utf-8")
    topology = tmp_path / "system.toml"
    topology.write_text("[services]\n", encoding="utf-8")
    outcome = CliRunner().invoke(app, ["run", str(experiment), "--topology", str(topology)])
    assert outcome.exit_code == 2
    assert "system.toml" in outcome.output


def test_directories_expand_to_their_experiment_files_in_name_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "c.json"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    single = tmp_path / "c.json"
    assert expand_paths([tmp_path, single]) == [tmp_path / "a.yml", tmp_path / "b.yaml", single]
