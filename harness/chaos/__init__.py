"""Chaos experiments: declarative files, a runner with a live view, journals and reports.

from harness.chaos import load_experiment, run_experiment

result = run_experiment(load_experiment("chaos/01_payments_latency.yaml"), system)
assert result.passed, result.summary()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from harness.assertions.invariants import InvariantReport, Violation
    from harness.chaos.loader import (
        ExperimentError,
        check_against_system,
        load_experiment,
        parse_experiment,
    )
    from harness.chaos.model import Experiment
    from harness.chaos.result import AssertionResult, ExperimentResult
    from harness.chaos.runner import run_experiment
    from harness.chaos.suite import expand_paths, run_suite
    from harness.chaos.systems import group_by_env, start_for

__all__ = [
    "AssertionResult",
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "InvariantReport",
    "Violation",
    "check_against_system",
    "expand_paths",
    "group_by_env",
    "load_experiment",
    "parse_experiment",
    "run_experiment",
    "run_suite",
    "start_for",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "harness.assertions.invariants": ("InvariantReport", "Violation"),
        "harness.chaos.loader": (
            "ExperimentError",
            "check_against_system",
            "load_experiment",
            "parse_experiment",
        ),
        "harness.chaos.model": ("Experiment",),
        "harness.chaos.result": ("AssertionResult", "ExperimentResult"),
        "harness.chaos.runner": ("run_experiment",),
        "harness.chaos.suite": ("expand_paths", "run_suite"),
        "harness.chaos.systems": ("group_by_env", "start_for"),
    },
)
