"""Schemathesis fuzzing of every service of a topology: seeded, stateful through OpenAPI
links, fault-aware, with a one-line reproduction for every failure.

    from harness.fuzz import FuzzOptions, run_fuzz

    result = run_fuzz(Path("system.toml"), options=FuzzOptions(max_examples=25))
    result.passed, result.figures, result.report_path, result.junit_path

`harness fuzz run` (harness/fuzz/cli.py) is the command-line face of `run_fuzz`. The checks the
harness adds to schemathesis' own live in `harness.fuzz.checks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.fuzz.checks import dependency_outage_answer, error_body_shape, keyed_replay
    from harness.fuzz.config import (
        FuzzConfigError,
        PassSettings,
        build_config,
        fault_checks,
        standard_checks,
    )
    from harness.fuzz.defaults import ALL_PHASES, DEFAULT_MAX_EXAMPLES, DEFAULT_SEED
    from harness.fuzz.engine import SchemaLoadError, load_app_schema, load_url_schema, run_pass
    from harness.fuzz.options import FuzzOptions
    from harness.fuzz.prepare import PrepareError, load_prepare
    from harness.fuzz.report import figures_line, print_summary
    from harness.fuzz.results import FailureReport, FuzzFigures, FuzzResult, PassResult
    from harness.fuzz.runner import FuzzPrepareFailed, FuzzRunError, fuzz_system, run_fuzz

__all__ = [
    "ALL_PHASES",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_SEED",
    "FailureReport",
    "FuzzConfigError",
    "FuzzFigures",
    "FuzzOptions",
    "FuzzPrepareFailed",
    "FuzzResult",
    "FuzzRunError",
    "PassResult",
    "PassSettings",
    "PrepareError",
    "SchemaLoadError",
    "build_config",
    "dependency_outage_answer",
    "error_body_shape",
    "fault_checks",
    "figures_line",
    "fuzz_system",
    "keyed_replay",
    "load_app_schema",
    "load_prepare",
    "load_url_schema",
    "print_summary",
    "run_fuzz",
    "run_pass",
    "standard_checks",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.fuzz.checks": ("dependency_outage_answer", "error_body_shape", "keyed_replay"),
        "harness.fuzz.config": (
            "FuzzConfigError",
            "PassSettings",
            "build_config",
            "fault_checks",
            "standard_checks",
        ),
        "harness.fuzz.engine": (
            "SchemaLoadError",
            "load_app_schema",
            "load_url_schema",
            "run_pass",
        ),
        "harness.fuzz.defaults": ("ALL_PHASES", "DEFAULT_MAX_EXAMPLES", "DEFAULT_SEED"),
        "harness.fuzz.options": ("FuzzOptions",),
        "harness.fuzz.prepare": ("PrepareError", "load_prepare"),
        "harness.fuzz.report": ("figures_line", "print_summary"),
        "harness.fuzz.results": ("FailureReport", "FuzzFigures", "FuzzResult", "PassResult"),
        "harness.fuzz.runner": ("FuzzPrepareFailed", "FuzzRunError", "fuzz_system", "run_fuzz"),
    },
)
