"""`harness load ...`: exit codes, messages, and one short run against the reference shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.load.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def flat(text: str) -> str:
    """The output without rich's line wrapping."""
    return " ".join(text.split())


def test_validate_accepts_the_shipped_profiles() -> None:
    profiles = [
        str(REPO / "load" / "profiles" / f"{n}.yaml") for n in ("smoke", "release", "chaos")
    ]
    result = runner.invoke(app, ["validate", *profiles])
    assert result.exit_code == 0, result.output
    assert "8 stages" in result.output  # release


def test_validate_checks_a_profile_against_its_topology(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text("")
    (tmp_path / "system.toml").write_text(
        '[services.orders]\napp = "m:app"\n[services.payments]\napp = "m:app"\n'
        '[[edges]]\nfrom = "orders"\nto = "payments"\n'
    )
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "locustfile: lf.py\ntopology: system.toml\nusers: 1\nduration: 5s\n"
        "assertions:\n  - {type: breaker_stayed_closed, edge: orders->payments}\n"
        "  - {type: breaker_stayed_closed, edge: orders->nowhere}\n"
    )
    result = runner.invoke(app, ["validate", str(profile)])
    assert result.exit_code == 2
    out = flat(result.output)
    assert "assertions.0.breaker: service 'orders' has no breaker convention" in out
    assert "assertions.1.breaker: unknown edge 'orders->nowhere'" in out
    missing = runner.invoke(app, ["validate", str(profile), "-t", str(tmp_path / "no.toml")])
    assert missing.exit_code == 2


def test_run_with_a_bad_profile_exits_2_and_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text("")
    profile = tmp_path / "bad.yaml"
    profile.write_text("locustfile: lf.py\nusers: 0\nduration: 5s\n")
    result = runner.invoke(app, ["run", str(profile)])
    assert result.exit_code == 2
    assert "users: Input should be greater than or equal to 1" in flat(result.output)


def test_run_without_a_topology_exits_2_and_says_how_to_give_one(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text("")
    profile = tmp_path / "p.yaml"
    profile.write_text("locustfile: lf.py\nusers: 1\nduration: 5s\n")
    result = runner.invoke(app, ["run", str(profile)])
    assert result.exit_code == 2
    assert "-t/--topology" in flat(result.output)


def test_report_of_a_directory_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a finished load run" in flat(result.output)


@pytest.mark.slow
@pytest.mark.integration
def test_short_run_against_the_reference_shop_passes_and_leaves_a_report(tmp_path: Path) -> None:
    profile = tmp_path / "tiny.yaml"
    profile.write_text(
        f"""
name: tiny
topology: {REPO / "target-system" / "system.toml"}
locustfile: {REPO / "load" / "locustfile.py"}
users: 3
spawn_rate: 3
duration: 4s
env: {{SHOP_WAIT_MIN: "0.1", SHOP_WAIT_MAX: "0.3"}}
slos:
  total: {{max_failure_ratio: 0.0, min_requests: 5}}
invariants: ["{REPO / "chaos" / "shop_invariants.py"}:check_shop_invariants"]
"""
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(profile), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] is True
    assert {c["kind"] for c in summary["checks"]} == {"run", "slo", "invariant"}
    assert "POST /api/users" in {row["key"] for row in summary["requests"]}
    assert (out / "report.html").stat().st_size > 0
    assert (out / "timeline.json").exists()
    # Locust's own report and CSV beside ours, their paths printed
    assert f"Locust's own report: {out / 'locust-report.html'}" in result.output
    assert str(out / "locust_stats.csv") in result.output
    assert summary["locust_report_path"] == str(out / "locust-report.html")
