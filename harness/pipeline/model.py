"""What a pipeline run is asked to do, and what each stage and the whole run produced."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "STAGE_NAMES",
    "PipelineOptions",
    "PipelineResult",
    "StageCheck",
    "StageName",
    "StageResult",
    "parse_stages",
    "replay_command",
    "replay_options",
]

StageName = Literal["contracts", "fuzz", "chaos", "explore", "load"]
# The order stages run in: cheapest and most basic first, so a broken API fails fast.
PIPELINE_ORDER: tuple[StageName, ...] = ("contracts", "fuzz", "chaos", "explore", "load")
# The stages run by default (`explore` runs only when asked for: it takes minutes).
STAGE_NAMES: tuple[StageName, ...] = ("contracts", "fuzz", "chaos", "load")


@dataclass(frozen=True, kw_only=True)
class PipelineOptions:
    """Settings of `run_pipeline` / `harness run`. Every input left None comes from the
    topology's `[pipeline]` table, else from its default place beside the topology file
    (`harness.pipeline.inputs`); a stage with no input is skipped, with the reason.

    - `topology`: the system.toml to test.
    - `only` (None: `[pipeline] stages`, else every stage): the stages to run, in pipeline
      order whatever order is given.
    - `seed` (None: `[pipeline] seed`, else each stage's default): one seed for fuzzing and
      chaos, so a run replays.
    - `out_dir` (None: `runs/<time>`): where the combined report and each stage's output go.
    - `pact_dir`, `chaos_paths`, `load_profile`: the inputs of the stages.
    - `fuzz_max_examples` (None: the fuzz layer's default): the fuzzing budget per operation.
    - `junit_path` (None: none): a JUnit XML file, one test suite per stage.
    - `chaos_parallel` (None: `[pipeline] chaos_parallel`, else 1): chaos experiments at
      once, each on its own system.
    - `concurrent` (None: `[pipeline] concurrent`, else none): stages run at the same time,
      each on its own system; the others run one by one, in pipeline order.
    """

    topology: Path
    only: Sequence[StageName] | None = None
    seed: int | None = None
    out_dir: Path | None = None
    pact_dir: Path | None = None
    chaos_paths: Sequence[Path] = ()
    load_profile: Path | None = None
    fuzz_max_examples: int | None = None
    junit_path: Path | None = None
    chaos_parallel: int | None = None
    concurrent: Sequence[StageName] | None = None


def parse_stages(names: Iterable[str]) -> list[StageName]:
    """`names` as stages in pipeline order; ValueError naming any that is not a stage."""
    wanted = set(names)
    unknown = sorted(wanted - set(PIPELINE_ORDER))
    if unknown:
        raise ValueError(
            f"unknown stage(s) {', '.join(unknown)}; expected some of {', '.join(PIPELINE_ORDER)}"
        )
    return [name for name in PIPELINE_ORDER if name in wanted]


@dataclass(frozen=True, kw_only=True)
class StageCheck:
    """One line of a stage's verdict: an experiment, an SLO, a provider, a fuzz pass."""

    name: str
    passed: bool
    detail: str = ""  # the first mismatch or why it failed; what held when it passed
    link: Path | None = None  # that check's own report or journal
    group: str = ""  # what it belongs to: a provider, an experiment, an operation
    seconds: float | None = None  # how long it took, where the layer measures it
    skipped: str | None = None  # not judged: why
    error: bool = False  # could not be judged (the run broke), rather than failed


@dataclass(kw_only=True)
class StageResult:
    """A stage's verdict and where its own reports are."""

    name: StageName
    passed: bool
    headline: str  # one line with the figures, e.g. "7/7 experiments passed"
    duration: float = 0.0
    skipped: str | None = None  # nothing to run: why (neither passed nor failed)
    checks: list[StageCheck] = field(default_factory=list)
    reports: list[tuple[str, Path]] = field(default_factory=list)  # (label, path)
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the stage could not run to the end: why

    @classmethod
    def skip(cls, name: StageName, reason: str) -> StageResult:
        return cls(name=name, passed=True, headline=reason, skipped=reason)

    @property
    def status(self) -> Literal["passed", "failed", "skipped"]:
        if self.skipped is not None:
            return "skipped"
        return "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "passed": self.passed,
            "skipped": self.skipped,
            "headline": self.headline,
            "duration_s": round(self.duration, 2),
            "error": self.error,
            "figures": self.figures,
            "checks": [
                {
                    "name": c.name,
                    "group": c.group,
                    "passed": c.passed,
                    "skipped": c.skipped,
                    "detail": c.detail,
                    "seconds": None if c.seconds is None else round(c.seconds, 3),
                    "link": str(c.link) if c.link else None,
                }
                for c in self.checks
            ],
            "reports": [{"label": label, "path": str(path)} for label, path in self.reports],
        }


@dataclass(kw_only=True)
class PipelineResult:
    """The whole run: every stage, the seed and versions that replay it, the report."""

    stages: list[StageResult]
    seed: int | None
    topology: Path
    out_dir: Path
    started_at: float
    ended_at: float
    versions: dict[str, str]
    report_path: Path | None = None
    summary_path: Path | None = None
    junit_path: Path | None = None

    @property
    def passed(self) -> bool:
        """Every stage that ran passed, and at least one ran (skipped stages do not count)."""
        ran = [stage for stage in self.stages if stage.skipped is None]
        return bool(ran) and all(stage.passed for stage in ran)

    replay_options: tuple[str, ...] = ()  # the inputs given on the command line

    @property
    def replay_command(self) -> str:
        """The command that runs this again, exactly: topology, stages, seed and inputs."""
        return replay_command(
            self.topology, [s.name for s in self.stages], self.seed, self.replay_options
        )

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seed": self.seed,
            "topology": str(self.topology),
            "out_dir": str(self.out_dir),
            "duration_s": round(self.duration, 2),
            "versions": self.versions,
            "stages": [stage.to_dict() for stage in self.stages],
            "report": str(self.report_path) if self.report_path else None,
            "junit": str(self.junit_path) if self.junit_path else None,
            "replay": self.replay_command,
        }


def replay_command(
    topology: Path, stages: Sequence[str], seed: int | None, options: Sequence[str] = ()
) -> str:
    parts = ["harness", "run", "-t", str(topology), "--only", ",".join(stages)]
    if seed is not None:
        parts += ["--seed", str(seed)]
    return shlex.join([*parts, *options])


def replay_options(options: PipelineOptions) -> tuple[str, ...]:
    """The inputs of `options` that were given rather than found, as `harness run` options."""
    parts: list[str] = []
    if options.fuzz_max_examples is not None:
        parts += ["--max-examples", str(options.fuzz_max_examples)]
    for path in options.chaos_paths:
        parts += ["--chaos", str(path)]
    if options.load_profile is not None:
        parts += ["--load-profile", str(options.load_profile)]
    if options.pact_dir is not None:
        parts += ["--pacts", str(options.pact_dir)]
    return tuple(parts)
