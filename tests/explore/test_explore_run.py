"""`harness explore` for real: a two-service system started per cell, the fault proxy's
HTTP toxics and request counts, and a bug the oracle must find: `front` retries an unkeyed
POST, so a lost response (`http_drop`) charges the store more than once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "apps" / "system.toml"
BIN = Path(sys.executable).parent


def _explore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "explore", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.integration
@pytest.mark.slow
def test_explore_finds_the_retried_unkeyed_post_and_its_replay_finds_it_again(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    done = _explore(
        "-t", str(FIXTURE), "--out", str(out), "--seed", "3",
        "--faults", "partition,http_drop",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["version"] == 1
    assert matrix["seed"] == 3
    cells = {cell["fault"]: cell for cell in matrix["cells"]}
    assert set(cells) == {"partition", "http_drop"}

    partition = cells["partition"]
    assert partition["verdict"] == "pass", partition["checks"]
    assert partition["edge"] == "front->store"

    # the system is kept after a passing cell, never after a failed one
    first, second = matrix["cells"]
    assert first["after_cells"] == 0
    assert second["after_cells"] == (1 if first["verdict"] == "pass" else 0)

    dropped = cells["http_drop"]
    assert dropped["verdict"] == "fail"
    failed = {check["kind"] for check in dropped["checks"] if check["status"] != "passed"}
    assert "requests" in failed, dropped["checks"]
    assert Path(dropped["journal"]).is_file()
    assert "FAIL" in done.stderr
    assert "http_drop" in done.stderr
    assert (out / "matrix.html").read_text().count("<svg") == 2

    # the replay command, run as printed, runs that one cell again and fails again
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    replay = subprocess.run(
        dropped["replay"], shell=True, cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stderr
    again = json.loads((out / "matrix.json").read_text())
    assert [cell["cell"] for cell in again["cells"]] == ["front->store:http_drop"]
    assert again["cells"][0]["verdict"] == "fail"
    # a failed cell's HTML report is written (a passing cell has its journal only)
    assert again["cells"][0]["report"].endswith(".html")
    assert partition["report"] is None
    assert Path(partition["journal"]).is_file()


def test_bad_input_exits_2_naming_it(tmp_path: Path) -> None:
    done = _explore("-t", str(FIXTURE), "--only", "front->store:flood", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown fault class 'flood'" in done.stderr
    no_traffic = tmp_path / "system.toml"
    no_traffic.write_text(
        'edges = ["a -> b"]\n[services.a]\napp = "a:app"\n[services.b]\napp = "b:app"\n'
    )
    done = _explore("-t", str(no_traffic), cwd=tmp_path)
    assert done.returncode == 2
    assert "[explore] traffic is not declared" in done.stderr
