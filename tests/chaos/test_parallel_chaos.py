"""`harness chaos run --parallel N`: experiments at once, each worker on a system of its own
(kept for its next experiment after a pass), on the runtime tests' small topology (real
processes, the real fault proxy)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from chaos_paths import ROOT
from typer.testing import CliRunner

from harness.chaos.cli import app

MINI = ROOT / "tests" / "harness" / "apps" / "system.toml"

PASSES = """
title: {title}
method:
  duration: 3s
  faults:
    - {{label: slow, edge: caller->echo, toxic: latency, attributes: {{latency: 200}},
        start: 0s, duration: 3s}}
assertions:
  - name: caller reaches echo
    http: {{service: caller, path: /call/echo}}
    after: slow.start
    until: slow.end
"""

FAILS = """
title: legacy cut off
method:
  duration: 3s
  faults:
    - {label: cut, edge: caller->legacy, toxic: reset_peer, start: 0s, duration: 3s}
assertions:
  - name: caller reaches legacy while cut off
    http: {service: caller, path: /call/legacy}
    after: cut.start
    until: cut.end
"""


@pytest.fixture
def experiments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))  # the workers inherit it
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "a.yaml").write_text(PASSES.format(title="echo answers through a slow link"))
    (folder / "b.yaml").write_text(FAILS)
    (folder / "c.yaml").write_text(PASSES.format(title="echo answers again"))
    return folder


@pytest.mark.integration
@pytest.mark.slow
def test_experiments_run_at_once_each_worker_on_its_own_system(
    experiments: Path, tmp_path: Path
) -> None:
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    options = ["--parallel", "3", "--seed", "1", "--out", str(out), "--junit-xml", str(junit)]
    outcome = CliRunner().invoke(
        app, ["run", str(experiments), "-t", str(MINI), *options, "--no-live"]
    )
    assert outcome.exit_code == 1, outcome.output  # b failed: the exit code says so
    lines = outcome.output.splitlines()
    # one line as each starts; a passing one ends in one line, a failing one in its report
    assert sum(line.startswith("  start ") for line in lines) == 3
    assert "  PASS echo answers through a slow link (3 s)" in lines
    assert "  PASS echo answers again (3 s)" in lines
    assert any(line.startswith("legacy cut off  [FAILED]") for line in lines)

    journals = [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]
    assert [j["status"] for j in journals] == ["passed", "failed", "passed"]
    # each journal has its HTML report beside it (drawn by this process as each ended)
    reports = sorted(out.glob("*.html"))
    assert [p.stem for p in reports] == [p.stem for p in sorted(out.glob("*.json"))]
    assert all("<svg" in p.read_text() for p in reports)
    callers = {j["system"]["services"]["caller"] for j in journals}
    assert len(callers) >= 2  # the workers' own systems, their own ports (that they run at
    # once is the pool's to show: tests/harness/test_parallel_pool.py, without timing)

    # results in the order given, whatever order they ended in
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [case.get("classname", "").split(".")[-1] for case in cases] == [
        "echo answers through a slow link",
        "legacy cut off",
        "echo answers again",
    ]


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_keeps_its_system_for_its_next_experiment_after_a_pass(
    experiments: Path, tmp_path: Path
) -> None:
    (experiments / "b.yaml").unlink()
    for name in ("d", "e"):
        (experiments / f"{name}.yaml").write_text(PASSES.format(title=f"echo answers ({name})"))
    out = tmp_path / "out"
    outcome = CliRunner().invoke(
        app,
        ["run", str(experiments), "-t", str(MINI), "--parallel", "2", "--out", str(out)],
    )
    assert outcome.exit_code == 0, outcome.output
    journals = [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]
    assert [j["status"] for j in journals] == ["passed"] * 4
    systems = {j["system"]["services"]["caller"] for j in journals}
    assert len(systems) <= 2, systems  # four experiments, two workers: a system each, reused
    assert all(j["faults"] and j["status"] == "passed" for j in journals)


def test_parallel_is_refused_below_one(experiments: Path) -> None:
    outcome = CliRunner().invoke(app, ["run", str(experiments), "-t", str(MINI), "--parallel", "0"])
    assert outcome.exit_code == 2
    assert "--parallel" in outcome.output


def test_a_system_that_does_not_start_aborts_its_experiment_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "home"))
    topology = tmp_path / "system.toml"
    topology.write_text(
        '[system]\nstartup_timeout = 5.0\n\n[services.api]\ncommand = ["{python}", "-c", '
        '"raise SystemExit(3)"]\n'
    )
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(f"title: {name}\nmethod:\n  faults: []\n")
    outcome = CliRunner().invoke(
        app,
        [
            "run",
            str(tmp_path / "a.yaml"),
            str(tmp_path / "b.yaml"),
            "-t",
            str(topology),
            "--parallel",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--no-live",
        ],
    )
    assert outcome.exit_code == 1, outcome.output
    assert outcome.output.count("reason: the system did not start") == 2, outcome.output
    assert "FAIL a" in outcome.output
    assert "FAIL b" in outcome.output


def test_parallel_on_attached_services_is_refused_before_anything_runs(experiments: Path) -> None:
    outcome = CliRunner().invoke(
        app,
        ["run", str(experiments), "-t", str(MINI), "--parallel", "2", "--backend", "attach"],
    )
    assert outcome.exit_code == 2, outcome.output
    assert "the attach backend shares one" in outcome.output
