"""What a pipeline run is asked to do, and what each stage and the whole run produced."""

from __future__ import annotations

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
]

StageName = Literal["contracts", "fuzz", "chaos", "explore", "load"]
# The order stages run in: cheapest and most basic first, so a broken API fails fast.
PIPELINE_ORDER: tuple[StageName, ...] = ("contracts", "fuzz", "chaos", "explore", "load")
# The stages run by default (`explore` runs only when asked for: it takes minutes).
STAGE_NAMES: tuple[StageName, ...] = ("contracts", "fuzz", "chaos", "load")


@dataclass(frozen=True, kw_only=True)
class PipelineOptions:
    """Settings of `run_pipeline` / `harness run`.

    - `topology`: the system.toml to test.
    - `only` (every stage): the stages to run, in pipeline order whatever order is given.
    - `seed` (None: each stage's default): one seed for fuzzing and chaos, so a run replays.
    - `out_dir` (None: `runs/<time>`): where the combined report and each stage's output go.
    - `pact_dir`, `chaos_paths`, `load_profile`: the inputs of the stages (the reference
      system's by default).
    - `fuzz_max_examples` (None: the fuzz layer's default): the fuzzing budget per operation.
    """

    topology: Path
    only: Sequence[StageName] = STAGE_NAMES
    seed: int | None = None
    out_dir: Path | None = None
    pact_dir: Path = Path("contracts/pacts")
    chaos_paths: Sequence[Path] = (Path("chaos"),)
    load_profile: Path = Path("load/profiles/smoke.yaml")
    fuzz_max_examples: int | None = None

    def stages(self) -> list[StageName]:
        return parse_stages(self.only)


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
    detail: str = ""
    link: Path | None = None  # that check's own report or journal


@dataclass(kw_only=True)
class StageResult:
    """A stage's verdict and where its own reports are."""

    name: StageName
    passed: bool
    headline: str  # one line with the figures, e.g. "7/7 experiments passed"
    duration: float = 0.0
    checks: list[StageCheck] = field(default_factory=list)
    reports: list[tuple[str, Path]] = field(default_factory=list)  # (label, path)
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the stage could not run to the end: why

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "headline": self.headline,
            "duration_s": round(self.duration, 2),
            "error": self.error,
            "figures": self.figures,
            "checks": [
                {
                    "name": c.name,
                    "passed": c.passed,
                    "detail": c.detail,
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

    @property
    def passed(self) -> bool:
        return bool(self.stages) and all(stage.passed for stage in self.stages)

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
        }
