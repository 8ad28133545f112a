"""`harness run` against the real reference system, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert [c["name"] for c in failed] == [
        "Payments slower than the caller's timeout opens the orders->payments breaker"
    ]
    assert "breaker of orders->payments opens" in failed[0]["detail"]
    page = (out / "report.html").read_text()
    assert '<div class="verdict failed">' in page
    assert "opens the orders-&gt;payments breaker" in page
    assert "report: " in proc.stderr
