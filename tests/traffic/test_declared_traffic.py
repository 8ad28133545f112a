"""Requests declared in YAML, run against a real service that is not the shop."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError
from traffic_secrets import NOTES_TOKEN

from harness import http_clients
from harness.chaos import parse_experiment, run_experiment
from harness.runtime import RunningSystem
from harness.traffic import (
    DeclaredTraffic,
    DeclaredTrafficSource,
    TrafficRecord,
    TrafficRun,
    TrafficSpec,
    request_counts,
)

SPEC = """
rate: 40
concurrency: 3
duration: 1.5s
generators:
  token: {env: NOTES_TEST_TOKEN}
  owner: {choice: [ann-private-7, bob-private-9]}
  words: {text: 6}
  stars: {int: [1, 5]}
secrets: [owner]
setup:
  - name: first_note
    service: notes
    method: POST
    path: /notes
    headers: {Authorization: "Bearer {token}"}
    json: {text: "first {words}", owner: "{owner}"}
    expect: 201
    capture: {first_id: id}
requests:
  - name: write_note
    service: notes
    method: POST
    path: /notes
    headers: {Authorization: "Bearer {token}"}
    json: {text: "{words}", owner: "{owner}", stars: "{stars}"}
    expect: 201
    weight: 3
    capture: {note_id: id}
  - name: read_note
    service: notes
    path: /notes/{note_id}
    weight: 2
  - name: read_first
    service: notes
    path: /notes/{first_id}
  - name: missing_note
    service: notes
    path: /notes/999999
    expect: [404]
  - name: no_token
    service: notes
    method: POST
    path: /notes
    json: {text: x}
    expect: 401
  - name: stale_read
    service: notes
    path: /notes/888888
"""


def _spec(text: str = SPEC, **changes: Any) -> DeclaredTraffic:
    data = {**yaml.safe_load(text), **changes}
    spec = TypeAdapter(TrafficSpec).validate_python(data)
    assert isinstance(spec, DeclaredTraffic)
    return spec


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TEST_TOKEN", NOTES_TOKEN)


def test_declared_requests_are_sent_and_recorded_with_expected_statuses(
    notes: RunningSystem,
) -> None:
    run = TrafficRun(DeclaredTrafficSource(_spec()), _spec())
    context = run.setup(notes, seed=3)
    assert isinstance(context["first_id"], int)
    run.start()
    assert run.wait(timeout=20)
    run.stop()
    counts = request_counts(run.records)
    assert set(counts) == {
        "write_note",
        "read_note",
        "read_first",
        "missing_note",
        "no_token",
        "stale_read",
    }
    assert sum(c["total"] for c in counts.values()) >= 40  # 1.5 s at 40/s, minus pacing slack
    # Declared statuses are ok (a 404 or a 401 the request expects); others are not.
    for name in ("write_note", "read_note", "read_first", "missing_note", "no_token"):
        assert counts[name]["error"] == 0, (name, counts[name])
    assert counts["missing_note"]["statuses"] == {"404": counts["missing_note"]["total"]}
    assert counts["no_token"]["statuses"] == {"401": counts["no_token"]["total"]}
    assert counts["stale_read"]["ok"] == 0
    assert counts["stale_read"]["statuses"] == {"404": counts["stale_read"]["total"]}
    # A read uses an id a write captured, and the service really has that note.
    reads = [r for r in run.records if r.name == "read_note"]
    assert all(r.status == 200 for r in reads)
    written = {r.data["captured"]["note_id"] for r in run.records if r.name == "write_note"}
    assert {r.data["vars"]["note_id"] for r in reads} <= written
    assert run.stats()["write_note"] == {"ok": counts["write_note"]["total"], "error": 0}


def _sequence(system: RunningSystem, seed: int, count: int = 30) -> list[tuple[str, Any]]:
    source = DeclaredTrafficSource(_spec())
    with http_clients.client(timeout=5) as client:
        source.setup(system, seed, client)
        records = [source.request(index, client) for index in range(count)]
    return [(r.name, _generated(r)) for r in records]


def _generated(record: TrafficRecord) -> dict[str, Any]:
    """The values drawn from the seed (captured ids depend on the service's state)."""
    shown = dict(record.data.get("vars", {}))
    return {key: shown[key] for key in ("words", "stars", "index") if key in shown}


def test_one_seed_gives_one_sequence_of_requests(notes: RunningSystem) -> None:
    first = _sequence(notes, seed=42)
    again = _sequence(notes, seed=42)
    other = _sequence(notes, seed=43)
    assert first == again
    assert first != other
    # Weights hold in every deck round: 3 writes in each 9 requests (weights 3+2+1+1+1+1),
    # once a write captured the id reads need (before that a read gives way to the next).
    names = [name for name, _ in first]
    for start in range(9, 27, 9):
        assert names[start : start + 9].count("write_note") == 3


def test_secrets_are_never_written_to_records_or_journals(
    notes: RunningSystem, tmp_path: Path
) -> None:
    experiment = parse_experiment(
        {
            "title": "notes under declared traffic",
            "seed": 5,
            "steady_state": {"probes": [{"name": "up", "http": {"service": "notes"}}]},
            "method": {"duration": 1.5, "traffic": {**yaml.safe_load(SPEC), "duration": 1.0}},
            "assertions": [
                {"name": "notes answers", "http": {"service": "notes"}, "after": "end"},
            ],
        },
        source=str(tmp_path / "notes.yaml"),
    )
    result = run_experiment(experiment, notes, journal_dir=tmp_path / "journals", tick=0.05)
    assert result.status == "passed", result.summary()
    assert result.journal_path is not None
    journal_text = result.journal_path.read_text()
    assert NOTES_TOKEN not in journal_text
    assert "ann-private-7" not in journal_text
    assert "bob-private-9" not in journal_text
    journal = json.loads(journal_text)
    assert journal["traffic"]["paths"]["write_note"]["ok"] > 0
    writes = [r for r in journal["traffic"]["requests"] if r["name"] == "write_note"]
    assert all("owner" not in r["data"].get("vars", {}) for r in writes)
    header = journal["experiment"]["method"]["traffic"]["requests"][0]["headers"]
    assert header == {"Authorization": "***"}
    assert journal["experiment"]["method"]["traffic"]["generators"]["owner"] == "***"
    report = result.report_path.read_text() if result.report_path else ""
    assert NOTES_TOKEN not in report
    assert "ann-private-7" not in report


def test_a_path_holding_a_secret_is_stored_redacted(notes: RunningSystem) -> None:
    spec = _spec(
        """
requests:
  - name: by_owner
    service: notes
    path: /notes/{owner}
    expect: 404
generators:
  owner: {choice: [carol-private-1]}
secrets: [owner]
"""
    )
    source = DeclaredTrafficSource(spec)
    with http_clients.client(timeout=5) as client:
        source.setup(notes, 1, client)
        record = source.request(0, client)
    assert record.status == 404  # the route wants an int: the request was really sent
    assert record.data["path"] == "/notes/***"
    assert "carol-private-1" not in json.dumps(record.to_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requests": [{"name": "a", "service": "s", "path": "/x/{nope}"}]}, "unknown placeholder"),
        (
            {"requests": [{"name": "a", "service": "s", "path": "/"}] * 2},
            "request names must be unique",
        ),
        (
            {"requests": [{"name": "a", "service": "s", "path": "/{id}", "capture": {"id": "id"}}]},
            "at least one must be sendable",
        ),
        ({"requests": [{"name": "a", "service": "s", "path": "x"}]}, "starting with '/'"),
        (
            {
                "generators": {"n": {"int": [5, 1]}},
                "requests": [{"name": "a", "service": "s", "path": "/"}],
            },
            "low <= high",
        ),
    ],
)
def test_declared_traffic_is_validated_when_loaded(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(TrafficSpec).validate_python(change)


def test_an_experiment_naming_an_unknown_service_in_its_traffic_is_refused(
    notes: RunningSystem, tmp_path: Path
) -> None:
    experiment = parse_experiment(
        {
            "title": "t",
            "method": {
                "duration": 1,
                "traffic": {"requests": [{"name": "a", "service": "nowhere", "path": "/"}]},
            },
        },
        source=str(tmp_path / "t.yaml"),
    )
    result = run_experiment(experiment, notes)
    assert result.status == "aborted"
    assert "method.traffic.requests.0.service: unknown service 'nowhere'" in result.reason


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        ({"rate": 4}, "method.traffic: traffic has `requests` (declared requests) or `class`"),
        ("orders please", "method.traffic: traffic has `requests`"),
        ({"class": "t.py:T", "mix": {}}, "method.traffic.class.mix: Extra inputs"),
    ],
)
def test_a_bad_traffic_block_is_named_in_the_experiment_error(traffic: Any, message: str) -> None:
    from harness.chaos.loader import ExperimentError

    with pytest.raises(ExperimentError, match=re.escape(message)):
        parse_experiment({"title": "t", "method": {"traffic": traffic}}, source="e.yaml")
