"""The fuzzing defaults a user sees in `harness fuzz run --help`, kept apart from the
modules that import schemathesis so that the help costs no schemathesis import."""

from __future__ import annotations

__all__ = ["ALL_PHASES", "DEFAULT_MAX_EXAMPLES", "DEFAULT_SEED"]

ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEFAULT_SEED = 20261121
DEFAULT_MAX_EXAMPLES = 25
