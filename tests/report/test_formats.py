"""The JSON documents the harness writes: versioned, ISO 8601 UTC times, valid against the
JSON Schemas shipped in the package; broken or newer documents are refused by name."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.chaos import parse_experiment, run_experiment
from harness.load.summary import LoadSummary
from harness.schemas import (
    DOCUMENTS,
    UnsupportedVersion,
    check_version,
    load_schema,
    validate_document,
)
from harness.schemas.generate import generated_schemas

REPO = Path(__file__).resolve().parents[2]
CHAOS_DIR = REPO / "chaos"

SHORT_EXPERIMENT: dict[str, Any] = {
    "title": "slow payments for a second",
    "seed": 5,
    "steady_state": {
        "probes": [{"name": "gateway answers", "http": {"service": "gateway", "path": "/health"}}]
    },
    "method": {
        "duration": "4s",
        "faults": [
            {
                "label": "slow",
                "edge": "orders->payments",
                "toxic": "latency",
                "attributes": {"latency": 200},
                "start": "1s",
                "duration": "1s",
            }
        ],
        "traffic": {"class": "shop_traffic.py:ShopTraffic", "rate": 4, "concurrency": 2},
    },
    "assertions": [
        {
            "name": "orders still succeed",
            "traffic": "place_order",
            "outcome": "ok",
            "measure": "count",
            "at_least": 1,
            "after": "start",
            "until": "end",
        },
        {
            "name": "breaker stays closed",
            "breaker": "orders->payments",
            "state": "closed",
            "after": "slow.end",
            "within": "5s",
        },
    ],
}


@pytest.fixture(scope="module")
def journal(harness_system: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A journal written by a real run against the reference shop (the plugin's session system)."""
    experiment = parse_experiment(SHORT_EXPERIMENT, source=str(CHAOS_DIR / "format_test.yaml"))
    result = run_experiment(
        experiment, harness_system, journal_dir=tmp_path_factory.mktemp("journal")
    )
    assert result.journal_path is not None
    assert result.traffic, "the run must have sent traffic for its journal to mean much"
    document: dict[str, Any] = json.loads(result.journal_path.read_text())
    return document


@pytest.mark.integration
@pytest.mark.slow
def test_a_real_journal_is_version_2_and_valid_against_its_schema(
    journal: dict[str, Any],
) -> None:
    assert journal["journal_version"] == DOCUMENTS["journal"].current == 2
    assert validate_document(journal, "journal") == []


@pytest.mark.integration
@pytest.mark.slow
def test_every_absolute_time_in_a_journal_is_iso_8601_utc(journal: dict[str, Any]) -> None:
    times = [journal["start"], journal["end"]]
    times += [event["at"] for event in journal["timeline"]]
    times += [fault["at"] for fault in journal["faults"]]
    times += [record["started_at"] for record in journal["traffic"]["requests"]]
    times += [scrape["t"] for scrapes in journal["metrics"].values() for scrape in scrapes]
    times += [point[0] for points in journal["breakers"].values() for point in points]
    assert journal["faults"], "the run must have applied a fault"
    assert journal["breakers"]
    for value in times:
        assert isinstance(value, str)
        assert value.endswith("+00:00"), value


@pytest.mark.integration
@pytest.mark.slow
def test_a_broken_journal_is_rejected_naming_where(journal: dict[str, Any]) -> None:
    broken = copy.deepcopy(journal)
    broken["faults"][0]["at"] = 1796447833.886  # a version-1 epoch time
    del broken["status"]
    problems = validate_document(broken, "journal")
    assert any(p.startswith("faults/0/at:") for p in problems), problems
    assert any("'status' is a required property" in p for p in problems), problems


def test_the_shipped_summary_schema_is_the_one_the_model_generates() -> None:
    for name, schema in generated_schemas().items():
        shipped = load_schema(next(k for k, d in DOCUMENTS.items() if d.schema_file == name))
        assert shipped == schema, (
            f"{name} is stale: run python -m harness.schemas --write-generated"
        )


def test_schemas_are_package_data_and_valid_json_schemas() -> None:
    import jsonschema

    for kind in DOCUMENTS:
        schema = load_schema(kind)
        jsonschema.validators.validator_for(schema).check_schema(schema)


VERSION_1_SUMMARY = {
    "profile": "old",
    "source": "load/old.yaml",
    "passed": True,
    "exit_code": 0,
    "started_at": 1796447830.5,
    "ended_at": 1796447840.5,
    "workers": 0,
    "checks": [{"name": "load was generated", "kind": "run", "passed": True, "detail": "9"}],
    "total": None,
    "requests": [],
    "errors": [],
    "faults": [],
    "fault_events": [
        {
            "at": 1796447832.0,
            "offset": 1.5,
            "action": "apply",
            "fault_index": 0,
            "kind": "edge",
            "target": "a->b",
            "description": "latency a->b",
        }
    ],
    "benchmark": None,
    "cpu": None,
}


def test_a_version_1_summary_still_reads_and_is_rewritten_with_iso_times() -> None:
    summary = LoadSummary.read(json.dumps(VERSION_1_SUMMARY))
    assert summary.started_at == 1796447830.5
    assert summary.fault_events[0].at == 1796447832.0
    again = json.loads(summary.model_dump_json())
    assert again["summary_version"] == 2
    assert again["started_at"] == "2026-12-05T05:17:10.500000+00:00"
    assert again["fault_events"][0]["at"] == "2026-12-05T05:17:12+00:00"
    assert validate_document(again, "summary") == []
    assert LoadSummary.read(json.dumps(again)).started_at == 1796447830.5


def test_a_summary_from_a_newer_harness_is_refused_naming_its_version() -> None:
    newer = {**VERSION_1_SUMMARY, "summary_version": 9}
    with pytest.raises(UnsupportedVersion, match=r"summary_version 9 .* reads \(1, 2\)"):
        LoadSummary.read(json.dumps(newer), source="runs/x/summary.json")
    with pytest.raises(UnsupportedVersion, match="journal_version 3"):
        check_version({"journal_version": 3}, "journal")


def test_the_validate_command_names_problems_and_exits_non_zero(tmp_path: Path) -> None:
    good = json.loads(LoadSummary.read(json.dumps(VERSION_1_SUMMARY)).model_dump_json())
    bad = {**good, "exit_code": "zero"}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "other.json").write_text("{}")

    def validate(name: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "harness.schemas", str(tmp_path / name)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    assert validate("good.json").returncode == 0
    failed = validate("bad.json")
    assert failed.returncode == 1
    assert "exit_code: 'zero' is not of type 'integer'" in failed.stderr
    other = validate("other.json")
    assert other.returncode == 2
    assert "not a harness document" in other.stderr
