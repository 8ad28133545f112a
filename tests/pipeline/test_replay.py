"""Every printed replay command reproduces the run exactly as printed: the test copies the
line from the output and runs it, in a shell, as a person would."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "harness" / "apps" / "system.toml"

pytestmark = [pytest.mark.integration]

# No seed in the file: the run draws one, and only the printed command can carry it.
EXPERIMENT = """\
title: echo answers like a teapot
method:
  duration: 1s
  faults: []
assertions:
  - name: echo answers 418
    http: {service: echo, path: /health}
    status: 418
    within: 1s
"""


def shell(command: str, *, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HARNESS_HOME": str(home),
        "NO_COLOR": "1",
        "COLUMNS": "300",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("HARNESS_TOPOLOGY", None)
    env.pop("TOXIPROXY_URL", None)
    return subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def journal(folder: Path) -> dict[str, object]:
    (path,) = folder.glob("*.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_the_printed_chaos_replay_command_runs_the_same_experiment_again(tmp_path: Path) -> None:
    (tmp_path / "teapot.yaml").write_text(EXPERIMENT)
    first = shell(
        f"harness chaos run teapot.yaml -t {shlex.quote(str(MINI))} --out first --no-live "
        "--junit-xml first.xml",
        cwd=tmp_path,
        home=tmp_path / "home",
    )
    assert first.returncode == 1, first.stderr[-3000:]
    replays = re.findall(r"^\s*replay: (.+)$", first.stderr, flags=re.MULTILINE)
    assert replays, first.stderr[-3000:]
    printed = replays[-1]
    original = journal(tmp_path / "first")
    case = ElementTree.parse(tmp_path / "first.xml").find(
        "testsuite[@name='chaos']/testcase[@name='echo answers 418']"
    )
    assert case is not None
    assert case.get("classname") == "chaos.echo answers like a teapot"
    assert printed in (case.find("failure").text or "")  # type: ignore[union-attr]
    assert f"--seed {original['seed']}" in printed
    assert "-t " in printed

    again = shell(printed, cwd=tmp_path, home=tmp_path / "home")  # exactly as printed
    assert again.returncode == 1, again.stderr[-3000:]
    replayed = journal(tmp_path / "runs" / "chaos")
    assert replayed["seed"] == original["seed"]
    assert replayed["replay"] == printed

    def verdicts(j: dict[str, object]) -> list[tuple[str, str]]:
        return [(a["name"], a["status"]) for a in j["assertions"]]  # type: ignore[attr-defined]

    assert verdicts(replayed) == verdicts(original) == [("echo answers 418", "failed")]


def test_the_printed_pipeline_replay_command_runs_the_same_stages_and_inputs_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "teapot.yaml").write_text(EXPERIMENT)
    first = shell(
        f"harness run -t {shlex.quote(str(MINI))} --only chaos --chaos teapot.yaml --seed 31 "
        "--out first",
        cwd=tmp_path,
        home=tmp_path / "home",
    )
    assert first.returncode == 1, first.stderr[-3000:]
    (printed,) = re.findall(r"^replay: (harness run .+)$", first.stderr, flags=re.MULTILINE)
    summary = json.loads((tmp_path / "first" / "summary.json").read_text())
    assert summary["replay"] == printed

    again = shell(printed, cwd=tmp_path, home=tmp_path / "home")  # exactly as printed
    assert again.returncode == 1, again.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    replayed = json.loads((run_dir / "summary.json").read_text())
    assert replayed["replay"] == printed
    assert replayed["seed"] == summary["seed"] == 31
    assert journal(run_dir / "chaos")["seed"] == journal(tmp_path / "first" / "chaos")["seed"]
    assert [s["status"] for s in replayed["stages"]] == ["failed"]
    assert [c["name"] for c in replayed["stages"][0]["checks"]] == ["echo answers 418"]


@pytest.mark.slow
def test_the_printed_fuzz_rerun_command_sends_the_same_requests_again(tmp_path: Path) -> None:
    toy = ROOT / "tests" / "fuzz" / "apps" / "system_with_bugs.toml"
    first = shell(
        f"harness fuzz run -t {shlex.quote(str(toy))} --max-examples 5 --seed 8 --no-faults "
        "--out first",
        cwd=tmp_path,
        home=tmp_path / "home",
    )
    assert first.returncode == 1, first.stderr[-3000:]
    report = json.loads((tmp_path / "first" / "report.json").read_text())
    (front,) = [p for p in report["passes"] if p["service"] == "front"]
    printed = front["failures"][0]["rerun"]
    assert printed in first.stdout + first.stderr  # shown as it is stored
    assert printed.startswith(f"harness fuzz run -t {toy} --service front --seed 8")

    again = shell(printed, cwd=tmp_path, home=tmp_path / "home")  # exactly as printed
    assert again.returncode == 1, again.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs" / "fuzz").iterdir()
    (replayed,) = json.loads((run_dir / "report.json").read_text())["passes"]
    assert replayed["service"] == "front"
    assert replayed["fingerprint"] == front["fingerprint"]  # the same requests, in order
    assert [f["title"] for f in replayed["failures"]] == [f["title"] for f in front["failures"]]
