"""`harness run` against the real reference system, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "target-system" / "system.toml"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def harness_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_run_fails_and_names_the_experiment_when_the_breaker_is_switched_off(
    tmp_path: Path,
) -> None:
    # The reference topology with the breaker protection off for every service.
    unprotected = tmp_path / "system.toml"
    unprotected.write_text(
        REFERENCE.read_text().replace(
            "[system.env]\n", '[system.env]\nBREAKER_ENABLED = "false"\n', 1
        )
    )
    assert 'BREAKER_ENABLED = "false"' in unprotected.read_text()
    out = tmp_path / "run"
    proc = harness_run(
        "--topology",
        str(unprotected),
        "--only",
        "chaos",
        "--chaos",
        str(ROOT / "chaos" / "01_payments_latency.yaml"),
        "--out",
        str(out),
        cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    chaos = summary["stages"][0]
    assert chaos["passed"] is False
    failed = [c for c in chaos["checks"] if not c["passed"]]
    assert {c["group"] for c in failed} == {
        "Payments slower than the caller's timeout opens the orders->payments breaker"
    }
    assert any("breaker of orders->payments opens" in c["name"] for c in failed)
    assert all("replay: harness chaos run " in c["detail"] for c in failed)
    page = (out / "report.html").read_text()
    assert 'class="verdict fail">FAIL' in page
    assert "opens the orders-&gt;payments breaker" in page
    assert "report: " in proc.stderr
    assert (
        "FAIL chaos Payments slower than the caller's timeout opens the orders->payments "
        "breaker: breaker of orders->payments opens"
    ) in proc.stderr


def test_run_writes_junit_xml_with_a_suite_per_stage_and_a_case_per_check(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "j.xml"
    out = tmp_path / "run"
    proc = harness_run(
        "-t", str(REFERENCE), "--only", "contracts,load",
        "--junit-xml", str(junit), "--out", str(out),
        cwd=tmp_path,  # the inputs come from [pipeline], relative to the topology file
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = ElementTree.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["contracts", "load"]

    contracts = suites["contracts"]
    cases = contracts.findall("testcase")
    summary = json.loads((out / "summary.json").read_text())
    assert len(cases) == int(contracts.get("tests", "0")) >= 31
    assert all(case.get("classname", "").startswith("contracts.") for case in cases)
    assert "contracts.orders -> payments" in {case.get("classname") for case in cases}
    times = [float(case.get("time", "0")) for case in cases]
    assert all(t > 0 for t in times), "every interaction carries the verifier's own time"
    assert len(set(times)) > 1, "times are measured, not one share of the total"
    assert contracts.get("failures") == "0"

    load = suites["load"]
    load_cases = load.findall("testcase")
    kinds = {case.get("classname") for case in load_cases}
    assert {"load.slo", "load.run"} <= kinds
    load_checks = summary["stages"][1]["checks"]
    assert [case.get("name") for case in load_cases] == [c["name"] for c in load_checks]
    assert all(float(case.get("time", "0")) > 0 for case in load_cases)
    assert f"JUnit XML: {junit}" in proc.stderr
