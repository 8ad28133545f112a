"""One command, one verdict: contracts, fuzzing, chaos and load against one topology.

    from harness.pipeline import PipelineOptions, run_pipeline

    result = run_pipeline(PipelineOptions(topology=Path("system.toml")))
    result.passed, result.stages, result.report_path

`harness run` is the command-line face of `run_pipeline`.
"""

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
