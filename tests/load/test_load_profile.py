"""Load profiles: what parses, and the errors that name file, key and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.faults import EdgeFault
from harness.load.profile import (
    BreakerClosed,
    BreakerOpened,
    ProfileError,
    load_profile,
    parse_profile,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "locustfile.py"
    path.write_text("# users\n")
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_full_profile_parses_into_typed_models(tmp_path: Path, locustfile: Path) -> None:
    path = write(
        tmp_path,
        """
name: chaos
locustfile: locustfile.py
users: 10
spawn_rate: 5
duration: 1m
slos:
  "POST /api/orders": {p95_ms: 250, max_failure_ratio: 0.05}
  total: {min_rps: 5}
faults:
  - {label: slow, edge: "orders -> payments", toxic: latency, attributes: {latency: 800},
     start: 20s, duration: 15s}
assertions:
  - {type: breaker_opened, edge: orders->payments, during: slow}
  - {type: breaker_closed, edge: orders->payments, after: 0, within: 10s}
""",
    )
    profile = load_profile(path)
    assert profile.locustfile == locustfile
    assert profile.total_duration == 60
    assert profile.slos["POST /api/orders"].p95_ms == 250
    [fault] = profile.faults
    assert isinstance(fault, EdgeFault)
    assert fault.edge == "orders->payments"
    assert (fault.start, fault.end) == (20, 35)
    opened, closed = profile.assertions
    assert isinstance(opened, BreakerOpened)
    assert isinstance(closed, BreakerClosed)
    assert closed.within == 10
    assert profile.fault("slow") == (0, fault)


def test_constant_load_becomes_one_stage(tmp_path: Path, locustfile: Path) -> None:
    profile = parse_profile(
        {"locustfile": "locustfile.py", "users": 8, "duration": "30s"}, base_dir=tmp_path
    )
    [stage] = profile.load_stages
    assert (stage.users, stage.duration, stage.spawn_rate) == (8, 30, 8)


def test_stages_add_up_to_the_duration(tmp_path: Path, locustfile: Path) -> None:
    profile = parse_profile(
        {
            "locustfile": "locustfile.py",
            "stages": [{"duration": "10s", "users": 5}, {"duration": 20, "users": 10}],
        },
        base_dir=tmp_path,
    )
    assert profile.total_duration == 30
    assert [s.users for s in profile.load_stages] == [5, 10]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "users: 5\nduration: 10s\nslos: {total: {p95_ms: -1}}",
            r"slos\.total\.p95_ms: .*greater than 0",
        ),
        (
            "users: 5\nduration: 10s\nslos: {total: {}}",
            r"slos\.total: expected at least one objective",
        ),
        (
            "users: 5\nduration: 10s\nslos: {total: {p96_ms: 3}}",
            r"slos\.total\.p96_ms: Extra inputs",
        ),
        ("users: 5", r"expected `users` and `duration`"),
        ("users: 5\nduration: soon", r"duration: expected a duration such as 5"),
        (
            "users: 5\nduration: 10s\nstages: [{duration: 5, users: 1}]",
            r"either `stages` or `users`",
        ),
        (
            "users: 5\nduration: 10s\n"
            "faults: [{edge: a->b, toxic: latency, start: 8s, duration: 5s}]",
            r"runs until t=13s but the load lasts 10s",
        ),
        (
            "users: 5\nduration: 10s\nfaults: [{edge: a->b, toxic: lag}]",
            r"faults\.0.*unknown toxic 'lag'",
        ),
        (
            "users: 5\nduration: 10s\nassertions: [{type: breaker_opened, edge: a->b, during: x}]",
            r"assertions\.0: no fault 'x'",
        ),
        (
            "users: 5\nduration: 10s\nassertions: [{type: breaker_flapped, edge: a->b}]",
            r"assertions\.0: .*breaker_opened",
        ),
    ],
)
def test_bad_profile_error_names_file_key_and_expectation(
    tmp_path: Path, locustfile: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, f"locustfile: locustfile.py\n{body}\n")
    with pytest.raises(ProfileError, match=expected) as caught:
        load_profile(path)
    assert str(path) in str(caught.value)


def test_missing_locustfile_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "locustfile: nowhere.py\nusers: 1\nduration: 1s\n")
    with pytest.raises(ProfileError, match=r"locustfile: no such file .*nowhere\.py"):
        load_profile(path)


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "users: 1\nslos: {total: [\n")
    with pytest.raises(
        ProfileError, match=r"profile\.yaml \(line \d+, column \d+\): not valid YAML"
    ):
        load_profile(path)


def test_profile_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="expected a mapping"):
        load_profile(write(tmp_path, "- just\n- a list\n"))


@pytest.mark.parametrize("name", ["smoke", "release", "chaos"])
def test_shipped_profiles_parse(name: str) -> None:
    profile = load_profile(REPO / "load" / "profiles" / f"{name}.yaml")
    assert profile.name == name
    assert profile.topology is not None
