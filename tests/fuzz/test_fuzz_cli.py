"""`harness fuzz` on the toy topology (real processes): bad input starts nothing; the
planted bugs fail the run with reproduction commands, in the summary, report.json and the
JUnit XML; without them the run passes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from toy_apps import TOY_SYSTEM, TOY_SYSTEM_WITH_BUGS
from typer.testing import CliRunner

from harness.fuzz.cli import EXIT_BAD_INPUT, EXIT_FAILED, app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HARNESS_HOME: runs and their cleanup never touch anyone else's."""
    path = tmp_path / "home"
    monkeypatch.setenv("HARNESS_HOME", str(path))
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    return path


def fuzz(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *args], env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topology", "no/such/system.toml"], "cannot read the topology file"),
        (["--topology", str(TOY_SYSTEM), "--service", "nope"], "unknown service(s) nope"),
        (["--topology", str(TOY_SYSTEM), "--openapi-path", "front"], "expected SERVICE=/path"),
        (["--topology", str(TOY_SYSTEM), "--phases", "fuzzing,chaos"], "--phases"),
        (["--topology", str(TOY_SYSTEM), "--prepare", "nowhere.py:seed"], "no such file"),
        (["--topology", str(TOY_SYSTEM), "--config", "no/such.toml"], "cannot read"),
    ],
)
def test_bad_input_exits_2_naming_the_problem_before_anything_starts(
    args: list[str], message: str, home: Path
) -> None:
    code, output = fuzz(*args)
    assert code == EXIT_BAD_INPUT, output
    assert message in " ".join(output.split())
    assert not (home / "runs").exists()  # no system was started


@pytest.mark.integration
def test_planted_bugs_fail_the_run_with_commands_that_reproduce_them(
    home: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "fuzz.xml"
    code, output = fuzz(
        "--topology", str(TOY_SYSTEM_WITH_BUGS), "--max-examples", "8", "--seed", "5",
        "--junit-xml", str(junit), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == EXIT_FAILED, output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    failures = {(f["pass"], f["check"]): f for p in report["passes"] for f in p["failures"]}
    replay = failures[("fuzz", "keyed_replay")]
    outage = failures[("partition front->back", "dependency_outage_answer")]
    assert outage["operation"] == "GET /welcome/{name}"
    for failure in (replay, outage):
        assert failure["reproduce"].startswith("curl -X ")
        assert failure["reproduce"] in output  # printed, one line each
        assert failure["rerun"].startswith("harness fuzz run -t ")
        assert "--seed 5 --max-examples 8" in failure["rerun"]
    text = " ".join(output.split())
    assert "back: skipped, no OpenAPI document at" in text
    assert "set `openapi` under [services.back.conventions] to where it is" in text
    suites = {s.get("name"): s for s in ElementTree.parse(junit).getroot()}
    failed = suites["fuzz"].find(
        "testcase[@classname='fuzz.front (partition front->back)']"
        "[@name='GET /welcome/{name} dependency_outage_answer']"
    )
    assert failed is not None
    # One count of failures: the summary, the figures line, report.json and JUnit agree.
    count = sum(len(p["failures"]) for p in report["passes"])
    assert report["figures"]["failures"] == count
    assert int(ElementTree.parse(junit).getroot().get("failures", "")) == count
    assert f"failures {count}" in output
    text = failed.find("failure").text  # type: ignore[union-attr]
    assert "reproduce:" in text
    assert outage["reproduce"] in text


@pytest.mark.integration
def test_the_toy_without_its_bugs_passes_and_prints_the_figures(home: Path, tmp_path: Path) -> None:
    code, output = fuzz(
        "--topology", str(TOY_SYSTEM), "--max-examples", "8", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, output
    assert "operations covered 3/3" in output
    assert "failures 0" in output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] is True
    assert report["figures"]["cases"] > 0
    assert report["figures"]["checks"] > report["figures"]["cases"]
    assert [p["pass"] for p in report["passes"]] == ["fuzz", "partition front->back", "fuzz"]


def test_a_schemathesis_toml_beside_the_topology_is_the_systems_config(
    home: Path, tmp_path: Path
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        TOY_SYSTEM.read_text().replace('app = "', f'cwd = "{TOY_SYSTEM.parent}"\napp = "')
    )
    (tmp_path / "schemathesis.toml").write_text("[checks\n")  # read, and refused, before a start
    code, output = fuzz("--topology", str(topology))
    assert code == EXIT_BAD_INPUT, output
    assert f"{tmp_path / 'schemathesis.toml'}: not valid TOML" in " ".join(output.split())
    assert not (home / "runs").exists()


PREPARE_RECORDING = """
import os


def prepare(system):
    with open(os.environ["PREPARED_LOG"], "a") as log:
        log.write(f"{os.getpid()} {system.url('front')}\\n")
"""


ONE_BY_ONE_PASSES = [("front", "fuzz"), ("front", "partition front->back"), ("back", "fuzz")]


def fuzz_in_parallel(
    topology: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, list[tuple[str, str]], list[str]]:
    """`harness fuzz run --parallel 2` with a prepare step that records each call: the exit
    code, the output, the (service, pass) of the report, and one line per prepare call."""
    (tmp_path / "seed.py").write_text(PREPARE_RECORDING)
    prepared = tmp_path / "prepared.log"
    prepared.touch()
    monkeypatch.setenv("PREPARED_LOG", str(prepared))
    code, output = fuzz(
        "--topology", str(topology), "--max-examples", "5", "--out", str(tmp_path / "out"),
        "--parallel", "2", "--prepare", f"{tmp_path / 'seed.py'}:prepare",
    )  # fmt: skip
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    passes = [(p["service"], p["pass"]) for p in report["passes"]]
    return code, output, passes, prepared.read_text().splitlines()


@pytest.mark.integration
def test_services_fuzzed_at_once_each_on_a_prepared_system_of_its_own_report_as_one_by_one(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, output, passes, lines = fuzz_in_parallel(TOY_SYSTEM, tmp_path, monkeypatch)
    assert code == 0, output
    assert "fuzzing 2 services, 2 at once, each worker on a toy of its own" in output
    assert passes == ONE_BY_ONE_PASSES  # the same passes in the same order (the test above)
    # each worker started a system of its own and prepared it once, in its own process
    pids = {line.split()[0] for line in lines}
    urls = {line.split()[1] for line in lines}
    assert len(lines) == len(pids) == len(urls) == 2, lines
    assert str(os.getpid()) not in pids
    # the workers write their progress to the terminal themselves, as plain lines
    workers = capfd.readouterr().err
    assert re.search(r"^\[\d\d:\d\d:\d\d\] fuzzing front: GET ", workers, re.M), workers
    assert "  ok front (partition front->back)" in workers


@pytest.mark.integration
def test_a_service_declaring_no_document_starts_no_system_of_its_own(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        TOY_SYSTEM.read_text().replace('app = "', f'cwd = "{TOY_SYSTEM.parent}"\napp = "')
        + '\n[services.back.conventions]\nopenapi = ""\n'
    )
    code, output, passes, lines = fuzz_in_parallel(topology, tmp_path, monkeypatch)
    assert code == 0, output
    assert passes == ONE_BY_ONE_PASSES
    assert "back: skipped, no OpenAPI document" in " ".join(output.split())
    assert len(lines) == 1  # one system, for front


@pytest.mark.integration
def test_an_empty_openapi_path_leaves_the_service_unfuzzed(home: Path, tmp_path: Path) -> None:
    code, output = fuzz(
        "--topology", str(TOY_SYSTEM), "--openapi-path", "front=", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == EXIT_FAILED, output  # accepted; and a run that fuzzed nothing passes nothing
    text = " ".join(output.split())
    assert 'front: skipped, no OpenAPI document: its `openapi` convention is ""' in text
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["figures"]["cases"] == 0
