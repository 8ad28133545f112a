"""One command, one verdict: contracts, fuzzing, chaos and load against one topology.

    from harness.pipeline import PipelineOptions, run_pipeline

    result = run_pipeline(PipelineOptions(topology=Path("system.toml")))
    result.passed, result.stages, result.report_path

What each stage runs on comes from `PipelineOptions`, else the topology's `[pipeline]` table,
else its default place beside the topology file (`harness.pipeline.inputs`); a stage with
nothing to run is SKIPPED with the reason. `harness.pipeline.junit` writes JUnit XML (one
suite per stage, one case per check) for `harness run` and every stage command alike, from the
`StageResult`s that `harness.pipeline.stages` makes of each layer's result.

`harness run` is the command-line face of `run_pipeline`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.pipeline.model import (
        STAGE_NAMES,
        PipelineOptions,
        PipelineResult,
        StageCheck,
        StageResult,
    )
    from harness.pipeline.run import run_pipeline

__all__ = [
    "STAGE_NAMES",
    "PipelineOptions",
    "PipelineResult",
    "StageCheck",
    "StageResult",
    "run_pipeline",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.pipeline.model": (
            "STAGE_NAMES",
            "PipelineOptions",
            "PipelineResult",
            "StageCheck",
            "StageResult",
        ),
        "harness.pipeline.run": ("run_pipeline",),
    },
)
