"""scripts/traffic_paths.py: the experiment x path table built from chaos journals."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from chaos_paths import ROOT


def _load() -> ModuleType:
    script = ROOT / "scripts" / "traffic_paths.py"
    spec = importlib.util.spec_from_file_location("traffic_paths", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PATHS = _load()


def _journal(folder: Path, name: str, source: str, paths: dict[str, object], seed: int = 7) -> None:
    data = {
        "experiment": {"source": source, "title": "t"},
        "status": "passed",
        "seed": seed,
        "duration": 12.5,
        "traffic": {"paths": paths},
    }
    (folder / name).write_text(json.dumps(data))


def test_one_row_per_experiment_the_newest_journal_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = {"total": 4, "ok": 4, "error": 0}
    _journal(tmp_path, "08_x-20261205T010000.json", "chaos/08_x.yaml", {"a": ok}, seed=1)
    _journal(tmp_path, "08_x-20261205T020000.json", "chaos/08_x.yaml", {"a": ok}, seed=2)
    _journal(
        tmp_path, "15_y-20261205T010000.json", "chaos/15_y.yaml",
        {"b": {"total": 9, "ok": 6, "error": 3}},
    )  # fmt: skip
    (tmp_path / "summary.json").write_text("[]")  # not a journal: ignored
    out = tmp_path / "table.md"
    assert PATHS.main([str(tmp_path), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| experiment | status | seed | `a` | `b` |"
    assert lines[2] == "| 08_x | passed | 2 | 4 | - |"
    assert lines[3] == "| 15_y | passed | 7 | - | 9 (3 err) |"
    assert out.read_text().splitlines() == lines


def test_no_journal_is_an_error_and_a_missing_path_bad_input(tmp_path: Path) -> None:
    assert PATHS.main([str(tmp_path)]) == 1
    assert PATHS.main([str(tmp_path / "nope")]) == 2
