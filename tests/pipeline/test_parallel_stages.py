"""`harness run` with stages at the same time (`[pipeline] concurrent`) and the chaos stage's
parallelism (`[pipeline] chaos_parallel`, `--parallel`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.pipeline import PipelineOptions, StageResult, run_pipeline
from harness.pipeline.inputs import StageInputs
from harness.pipeline.run import YIELDING_NICENESS
from harness.pipeline.stages import StageContext
from harness.topology import load_topology

SERVICE = '[services.api]\ncommand = ["{python}", "-c", "pass"]\n'


def write_topology(folder: Path, pipeline: str = "") -> Path:
    for name, file in (("pacts", "web-api.json"), ("chaos", "a.yaml"), ("load", "smoke.yaml")):
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / file).write_text("{}")
    path = folder / "system.toml"
    path.write_text(SERVICE + (f"\n[pipeline]\n{pipeline}" if pipeline else ""))
    return path


def resolve(path: Path, **options: object) -> StageInputs:
    return StageInputs.resolve(PipelineOptions(topology=path, **options), load_topology(path))  # type: ignore[arg-type]


def test_concurrent_stages_form_one_step_where_the_first_of_them_runs(tmp_path: Path) -> None:
    path = write_topology(tmp_path, 'concurrent = ["chaos", "fuzz"]\nchaos_parallel = 4\n')
    inputs = resolve(path)
    assert inputs.steps() == [["contracts"], ["fuzz", "chaos"], ["load"]]
    assert inputs.chaos_parallel == 4
    assert resolve(path, only=["chaos", "load"]).steps() == [["chaos"], ["load"]]


def test_options_win_over_the_table(tmp_path: Path) -> None:
    path = write_topology(tmp_path, 'concurrent = ["fuzz", "chaos"]\nchaos_parallel = 4\n')
    inputs = resolve(path, concurrent=["chaos", "load"], chaos_parallel=2)
    assert inputs.steps() == [["contracts"], ["fuzz"], ["chaos", "load"]]
    assert inputs.chaos_parallel == 2


def test_by_default_stages_run_one_by_one_and_chaos_one_at_a_time(tmp_path: Path) -> None:
    inputs = resolve(write_topology(tmp_path))
    assert inputs.steps() == [["contracts"], ["fuzz"], ["chaos"], ["load"]]
    assert inputs.chaos_parallel == 1


def test_an_unknown_concurrent_stage_is_named(tmp_path: Path) -> None:
    path = write_topology(tmp_path, 'concurrent = ["fuzz", "soak"]\n')
    with pytest.raises(ValueError, match=r"\[pipeline\] concurrent: unknown stage\(s\) soak"):
        resolve(path)


def test_chaos_parallel_below_one_is_a_topology_error(tmp_path: Path) -> None:
    path = write_topology(tmp_path, "chaos_parallel = 0\n")
    outcome = CliRunner().invoke(app, ["run", "-t", str(path)])
    assert outcome.exit_code == 2
    assert "chaos_parallel" in outcome.output


def test_concurrent_stages_overlap_and_report_in_pipeline_order(tmp_path: Path) -> None:
    spans: dict[str, tuple[float, float, str]] = {}

    def stage(seconds: float):  # type: ignore[no-untyped-def]
        def run(ctx: StageContext) -> StageResult:
            began = time.monotonic()
            time.sleep(seconds)
            name = ctx.out_dir.name
            spans[name] = (began, time.monotonic(), threading.current_thread().name)
            return StageResult(name=name, passed=name != "chaos", headline=f"{name} ran")  # type: ignore[arg-type]

        return run

    path = write_topology(tmp_path / "system", 'concurrent = ["fuzz", "chaos"]\n')
    stages = {"contracts": stage(0.1), "fuzz": stage(0.6), "chaos": stage(0.3), "load": stage(0.1)}
    options = PipelineOptions(topology=path, out_dir=tmp_path / "out")
    result = run_pipeline(options, stages=stages)  # type: ignore[arg-type]

    assert [s.name for s in result.stages] == ["contracts", "fuzz", "chaos", "load"]
    assert not result.passed  # chaos failed while fuzz ran: still counted
    assert spans["chaos"][0] < spans["fuzz"][1]  # chaos began before fuzz ended
    assert spans["contracts"][1] <= min(spans["fuzz"][0], spans["chaos"][0])
    assert spans["load"][0] >= max(spans["fuzz"][1], spans["chaos"][1])
    # the timed stage runs in the main thread, which keeps Ctrl-C and SIGTERM
    assert spans["chaos"][2] == threading.main_thread().name
    assert spans["fuzz"][2] != threading.main_thread().name


def _niceness_seen(tmp_path: Path, concurrent: str) -> dict[str, tuple[int, int]]:
    """Each stage's thread niceness and that of a process it starts, run with `concurrent`."""
    seen: dict[str, tuple[int, int]] = {}

    def stage(ctx: StageContext) -> StageResult:
        name = ctx.out_dir.name
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.nice(0))"],
            capture_output=True,
            text=True,
            check=True,
        )
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen[name] = (own, int(child.stdout))
        return StageResult(name=name, passed=True, headline="ran")  # type: ignore[arg-type]

    path = write_topology(tmp_path / "system", f"concurrent = {concurrent}\n")
    stages = dict.fromkeys(("contracts", "fuzz", "chaos", "load"), stage)
    result = run_pipeline(PipelineOptions(topology=path, out_dir=tmp_path / "out"), stages=stages)  # type: ignore[arg-type]
    assert result.passed
    return seen


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value per thread is Linux's")
def test_beside_a_timed_stage_the_untimed_ones_and_their_processes_yield_the_cpu(
    tmp_path: Path,
) -> None:
    normal = os.nice(0)
    seen = _niceness_seen(tmp_path, '["contracts", "fuzz", "chaos", "load"]')
    lowered = max(normal, YIELDING_NICENESS)
    assert seen["chaos"] == seen["load"] == (normal, normal)  # what they time is not slowed
    assert seen["contracts"] == seen["fuzz"] == (lowered, lowered)
    assert os.nice(0) == normal  # the run's own thread is as it was


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value per thread is Linux's")
def test_untimed_stages_side_by_side_or_alone_keep_their_priority(tmp_path: Path) -> None:
    normal = os.nice(0)
    seen = _niceness_seen(tmp_path, '["contracts", "fuzz"]')
    assert set(seen.values()) == {(normal, normal)}
