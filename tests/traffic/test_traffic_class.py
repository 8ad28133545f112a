"""A user's traffic class, named `module:Class` or `file.py:Class`, resolved and run."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NOTES_TOKEN

from harness.chaos import parse_experiment, run_experiment
from harness.runtime import RunningSystem
from harness.traffic import ClassTraffic, TrafficError, traffic_source

HERE = Path(__file__).parent


def test_a_module_class_reference_is_resolved_and_built_with_its_options() -> None:
    spec = ClassTraffic.model_validate(
        {"class": "traffic_classes:NotesTraffic", "options": {"token": "t", "reads": 3}}
    )
    source = traffic_source(spec, base_dir=Path("/nonexistent"))
    assert type(source).__name__ == "NotesTraffic"
    assert source.reads == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reference", "options", "message"),
    [
        ("traffic_classes.py:not_a_class", {}, "expected a class"),
        ("traffic_classes.py:NotATraffic", {}, "needs the methods setup"),
        ("traffic_classes.py:NotesTraffic", {"colour": "red"}, "options were refused"),
        ("missing.py:Traffic", {}, "no such file"),
        ("no_such_module_here:Traffic", {}, "cannot import"),
    ],
)
def test_a_bad_traffic_class_is_refused_with_the_reason(
    reference: str, options: dict[str, object], message: str
) -> None:
    spec = ClassTraffic.model_validate({"class": reference, "options": options})
    with pytest.raises(TrafficError, match=message):
        traffic_source(spec, base_dir=HERE)


def test_a_file_class_traffic_drives_an_experiment(notes: RunningSystem, tmp_path: Path) -> None:
    experiment = parse_experiment(
        {
            "title": "notes under a user's traffic class",
            "seed": 9,
            "method": {
                "duration": 1.5,
                "traffic": {
                    "class": "traffic_classes.py:NotesTraffic",
                    "rate": 20,
                    "concurrency": 2,
                    "options": {"token": NOTES_TOKEN, "reads": 2},
                    "secrets": ["token"],
                },
            },
        },
        source=str(HERE / "notes-class.yaml"),  # file references are relative to it
    )
    result = run_experiment(experiment, notes, journal_dir=tmp_path, tick=0.05)
    assert result.status == "passed", result.summary()
    names = {record.name for record in result.traffic}
    assert names == {"write", "read"}
    assert all(record.ok for record in result.traffic)
    assert result.traffic_context == {"notes_service": "notes"}
    assert result.journal_path is not None
    text = result.journal_path.read_text()
    assert NOTES_TOKEN not in text
    assert '"token": "***"' in text
