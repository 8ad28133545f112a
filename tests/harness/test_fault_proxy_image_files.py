"""The fault proxy's container image holds only part of the harness (`_source_items`): the
proxy must run from exactly those files. Checked without a container engine, by running it
from a folder holding only what the image would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import harness
from harness.runtime.backends.containers.images import ImagePlan, _source_items


def test_the_fault_proxy_runs_from_the_files_its_image_gets(tmp_path: Path) -> None:
    plan = ImagePlan(
        base="unused",
        requirements=[],
        sources={"harness": Path(harness.__file__).parent},
        commands={},
        ports={},
    )
    src = tmp_path / "src"
    for source, destination in _source_items(plan):
        target = src / destination
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    code = (
        "import sys, harness.faultproxy.server as s;"
        "assert s.__file__.startswith(sys.argv[1]), s.__file__;"
        "extra = sorted(m for m in sys.modules if m.startswith('harness.')"
        " and not m.startswith('harness.faultproxy') and m != 'harness.lazy_exports');"
        "assert not extra, extra"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    for args in (["-c", code, str(src)], ["-m", "harness.faultproxy", "--help"]):
        outcome = subprocess.run(
            [sys.executable, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert outcome.returncode == 0, outcome.stderr[-2000:]
