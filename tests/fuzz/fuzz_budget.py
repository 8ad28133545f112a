"""Seed, example budget and schemathesis settings shared by the fuzz tests.

The budget is set from the command line through the environment (the schemas are built
when pytest collects, before any fixture runs):

    HARNESS_FUZZ_MAX_EXAMPLES=100 HARNESS_FUZZ_SEED=7 pytest tests/fuzz

The defaults are small: these passes check the shop's services in process, each call its
real dependencies, while `harness run` fuzzes the same live shop with 25 examples per
operation, every phase and a partition pass per edge. Halving them (12 -> 6, stateful 25 -> 12)
took the shop's six in-process files from 54 to 35 CPU-seconds.

No coverage phase here: schemathesis builds its cases when pytest collects, in every xdist
worker, and runs them all whatever the budget. Without it the six files take 25 CPU-seconds
instead of 38, and each worker collects 1.7 CPU-seconds faster; `harness run` (and
tests/fuzz/test_fuzz_live.py) still run it against the live shop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, settings

from harness.fuzz import (
    ALL_PHASES,
    DEFAULT_SEED,
    PassSettings,
    build_config,
    load_app_schema,
    standard_checks,
)
from harness.topology import load_topology

SHOP_CONFIG = Path(__file__).resolve().parents[2] / "target-system" / "schemathesis.toml"
SHOP_TOPOLOGY = SHOP_CONFIG.with_name("system.toml")
# The keys every error body of the shop has, as its topology declares them.
SHOP_ERROR_BODY = load_topology(SHOP_TOPOLOGY).conventions_for("gateway").error_body
SEED = int(os.environ.get("HARNESS_FUZZ_SEED", DEFAULT_SEED))
MAX_EXAMPLES = int(os.environ.get("HARNESS_FUZZ_MAX_EXAMPLES", "6"))
STATEFUL_EXAMPLES = int(os.environ.get("HARNESS_FUZZ_STATEFUL_EXAMPLES", "12"))
STATEFUL_STEPS = 6

OPERATION_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL_SETTINGS = settings(
    max_examples=STATEFUL_EXAMPLES,
    stateful_step_count=STATEFUL_STEPS,
    deadline=None,
    database=None,
    derandomize=True,  # state machines take no @seed: derandomized, every run is the same
    suppress_health_check=list(HealthCheck),
)


def shop_schema(
    app: Any, *, kind: Literal["asgi", "wsgi"] = "asgi", authenticated: bool = True
) -> Any:
    """An in-process app's document under the harness's settings and checks, with the shop's
    schemathesis settings (the gateway's token) unless `authenticated` is False."""
    config = build_config(
        PassSettings(
            seed=SEED,
            max_examples=MAX_EXAMPLES,
            phases=tuple(phase for phase in ALL_PHASES if phase != "coverage"),  # see above
            checks=standard_checks(
                idempotency_header="Idempotency-Key", error_fields=SHOP_ERROR_BODY
            ),
        ),
        base_file=SHOP_CONFIG if authenticated else None,
    )
    return load_app_schema(app, config=config, kind=kind)


def stateful_test(
    schema: Any, *, reset: Callable[[], None], machine: Any = None, budget: float = 1.0
) -> Any:
    """The unittest TestCase running `schema`'s links as a state machine.

    `reset` runs before every example, so that each starts from the same data; `machine`
    (a subclass of `schema.as_state_machine()`) adds assertions of its own; `budget`
    multiplies the examples (STATEFUL_EXAMPLES).

    Derandomized is not the same in every session: hypothesis also draws constants found in
    the local modules imported so far, so the sequences depend on which other tests ran.
    A test that needs a long sequence to happen needs a budget with room for that.
    """
    base = machine or schema.as_state_machine()

    class Workflows(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            reset()
            super().setup()

    test_case = Workflows.TestCase
    test_case.settings = settings(
        STATEFUL_SETTINGS, max_examples=max(1, round(STATEFUL_EXAMPLES * budget))
    )
    return test_case
