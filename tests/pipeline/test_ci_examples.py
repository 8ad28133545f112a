"""The CI examples in docs/ci/ run what exists and keep what the run writes: each command
they run is a nox session of this project, the JUnit path they publish is the one
`nox -s run` writes, and the folder they keep holds every report the run leaves."""

from __future__ import annotations

import os
import runpy
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import nox
import pytest
import yaml

from harness.pipeline.run import default_out_dir

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "docs" / "ci"


class RecordingSession:
    """Stands in for nox's Session: records what a session function would run."""

    posargs: list[str] = []

    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def install(self, *args: str, **_: Any) -> None:
        pass

    def run(self, *args: str, **_: Any) -> None:
        self.commands.append(args)


@pytest.fixture(scope="module")
def nox_sessions() -> dict[str, Any]:
    runpy.run_path(str(REPO / "noxfile.py"))
    return dict(nox.registry.get())


@pytest.fixture(scope="module")
def harness_run_command(nox_sessions: dict[str, Any]) -> tuple[str, ...]:
    session = RecordingSession()
    with pytest.MonkeyPatch.context() as patch:
        # the session puts the shared environment first on PATH: undone afterwards
        patch.setenv("PATH", os.environ["PATH"])
        patch.setenv("VIRTUAL_ENV", "")
        patch.delenv("VIRTUAL_ENV")
        nox_sessions["run"](session)
    [command] = [command for command in session.commands if command[0] == "harness"]
    return command


def github_steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    [job] = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def gitlab_job() -> dict[str, Any]:
    [job] = yaml.safe_load((CI / "gitlab-ci.yml").read_text()).values()
    assert isinstance(job, dict)
    return job


def nox_commands(lines: list[str]) -> list[list[str]]:
    """The `nox -s ...` invocations among shell lines, as the sessions they name."""
    sessions = []
    for line in lines:
        words = shlex.split(line)
        runs_nox = words[:1] == ["nox"] or any(
            words[i : i + 2] == ["-m", "nox"] for i in range(len(words))
        )
        if runs_nox:
            assert "-s" in words, f"{line}: name the session (nox's defaults are not the run)"
            after = words[words.index("-s") + 1 :]
            sessions.append([w for w in after if not w.startswith("-")])
    return sessions


def test_both_examples_run_nox_sessions_that_exist(nox_sessions: dict[str, Any]) -> None:
    github = [step["run"] for step in github_steps() if "run" in step]
    for sessions in (nox_commands(github), nox_commands(gitlab_job()["script"])):
        assert sessions == [["run"]]
        for session in sessions[0]:
            assert session in nox_sessions


def test_both_start_from_python_311_and_install_nox_and_uv() -> None:
    [setup] = [s for s in github_steps() if str(s.get("uses", "")).startswith("actions/setup-")]
    assert setup["with"]["python-version"] == "3.11"
    assert gitlab_job()["image"] == "python:3.11"
    github = " ".join(step.get("run", "") for step in github_steps())
    for script in (github, " ".join(gitlab_job()["script"])):
        assert "pip install nox uv" in script


def test_the_junit_they_publish_is_the_file_nox_run_writes(
    harness_run_command: tuple[str, ...],
) -> None:
    written = harness_run_command[harness_run_command.index("--junit-xml") + 1]
    [publish] = [s for s in github_steps() if "junit" in str(s.get("uses", ""))]
    assert publish["with"]["report_paths"] == written
    assert gitlab_job()["artifacts"]["reports"]["junit"] == written


def test_they_keep_the_reports_also_when_the_run_failed(
    harness_run_command: tuple[str, ...],
) -> None:
    # `nox -s run` passes no --out: the run's reports land in default_out_dir().
    assert "--out" not in harness_run_command
    landed = [
        PurePosixPath(default_out_dir().as_posix()) / name
        for name in ("report.html", "summary.json", "chaos/journal.json", "load/report.html")
    ]
    [upload] = [s for s in github_steps() if "upload-artifact" in str(s.get("uses", ""))]
    [publish] = [s for s in github_steps() if "junit" in str(s.get("uses", ""))]
    artifacts = gitlab_job()["artifacts"]
    for kept, always in (
        ([upload["with"]["path"]], upload["if"] == "${{ always() }}"),
        (artifacts["paths"], artifacts["when"] == "always"),
    ):
        assert always, "reports must be kept when a check failed"
        for report in landed:
            assert any(report.is_relative_to(folder.rstrip("/")) for folder in kept), report
    assert publish["if"] == "${{ always() }}"
