"""`harness chaos validate|run`: exit codes and messages for bad input (nothing started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.chaos.cli import app
from harness.chaos.suite import expand_paths

GOOD = "title: t\nmethod:\n  faults: []\n"
TOPOLOGY = """
[conventions]
metrics = "/metrics"

[services.orders]
app = "m:app"

[services.payments]
app = "m:app"

[[edges]]
from = "orders"
to = "payments"
"""


def _topology(tmp_path: Path, text: str = TOPOLOGY) -> str:
    path = tmp_path / "topology" / "system.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_lists_every_good_experiment(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text(GOOD.replace("t\n", "u\n", 1), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an experiment", encoding="utf-8")
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path), "-t", _topology(tmp_path)])
    assert outcome.exit_code == 0, outcome.output
    assert "a.yaml: t" in outcome.output
    assert "b.yml: u" in outcome.output
    assert "notes" not in outcome.output


def test_validate_without_files_checks_the_experiments_the_topology_declares(
    tmp_path: Path,
) -> None:
    topology = Path(_topology(tmp_path, TOPOLOGY + '\n[pipeline]\nexperiments = "../exp"\n'))
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "a.yaml").write_text(GOOD, encoding="utf-8")
    outcome = CliRunner().invoke(app, ["validate", "-t", str(topology)])
    assert outcome.exit_code == 0, outcome.output
    assert "a.yaml: t" in outcome.output
    (tmp_path / "exp" / "a.yaml").unlink()
    empty = CliRunner().invoke(app, ["validate", "-t", str(topology)])
    assert empty.exit_code == 2
    assert "nothing to run" in empty.output


def test_validate_reports_every_bad_file_with_its_key_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad1.yaml").write_text("title: t\n", encoding="utf-8")
    (tmp_path / "bad2.yaml").write_text(
        "title: t\nmethod: {faults: [{edge: a->b, toxic: lag}]}\n", encoding="utf-8"
    )
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path), "-t", _topology(tmp_path)])
    assert outcome.exit_code == 2
    assert "bad1.yaml: method: Field required" in outcome.output
    assert "bad2.yaml: method.faults.0: unknown toxic 'lag'" in outcome.output


BREAKER = """
title: t
method:
  faults: [{label: slow, edge: orders->payments, toxic: latency, start: 0, duration: 1}]
assertions:
  - {name: opens, breaker: orders->payments, state: open, after: slow.start, within: 5s}
  - {name: typo, metric: x_total, service: ordrs, at_most: 5}
"""


def test_validate_checks_experiments_against_the_topology_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text(BREAKER, encoding="utf-8")
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path), "-t", _topology(tmp_path)])
    assert outcome.exit_code == 2
    flat = " ".join(outcome.output.split())
    assert "assertions.0.breaker: service 'orders' has no breaker convention" in flat
    assert "assertions.1.service: unknown service 'ordrs'" in flat


def test_validate_without_a_topology_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "e.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_TOPOLOGY", raising=False)
    outcome = CliRunner().invoke(app, ["validate", "e.yaml"])
    assert outcome.exit_code == 2
    assert "-t/--topology" in outcome.output
    missing = CliRunner().invoke(app, ["validate", "e.yaml", "-t", "nowhere.toml"])
    assert missing.exit_code == 2


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


def test_validate_names_an_invariant_file_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        GOOD + "assertions:\n  - name: inv\n    invariant: missing.py:check\n", encoding="utf-8"
    )
    outcome = CliRunner().invoke(app, ["validate", str(tmp_path), "-t", _topology(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    message = " ".join(outcome.output.split())
    assert "assertions.0.invariant: no such file" in message
    assert "missing.py" in message
    (tmp_path / "missing.py").write_text("def check(**_):\n    return []\n", encoding="utf-8")
    fixed = CliRunner().invoke(app, ["validate", str(tmp_path), "-t", _topology(tmp_path)])
    assert fixed.exit_code == 0, fixed.output
