"""The experiments in chaos/ against the real reference shop (processes on loopback).

Every experiment must pass on the shop as built; and for experiments 1, 4 and 6 the same
experiment, run against a shop with the protection switched off, must fail naming the
assertion that guards that protection: proof that the assertions bite.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from chaos_paths import CHAOS_DIR

from harness.chaos import ExperimentResult, load_experiment, run_experiment, run_suite

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXPERIMENTS = sorted(CHAOS_DIR.glob("*.yaml"))


def _ids(path: Path) -> str:
    return path.stem


@pytest.mark.experiment
@pytest.mark.parametrize("path", [p for p in EXPERIMENTS if not load_experiment(p).env], ids=_ids)
def test_experiment_passes_on_the_reference_shop(
    path: Path, system: Any, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    result = run_experiment(load_experiment(path), system, journal_dir=tmp_path)
    record_property("chaos_duration_s", round(result.duration, 1))
    assert result.passed, result.summary()


@pytest.mark.experiment
@pytest.mark.parametrize("path", [p for p in EXPERIMENTS if load_experiment(p).env], ids=_ids)
def test_experiment_needing_settings_passes_on_a_shop_started_with_them(
    path: Path,
    system_with: Callable[[dict[str, Any]], AbstractContextManager[Any]],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    experiment = load_experiment(path)
    with system_with(dict(experiment.env)) as system:
        result = run_experiment(experiment, system, journal_dir=tmp_path)
    record_property("chaos_duration_s", round(result.duration, 1))
    assert result.passed, result.summary()


BITES = [
    pytest.param(
        "01_payments_latency.yaml",
        {"BREAKER_ENABLED": False},
        "breaker of orders->payments opens within 8 s of the fault",
        id="breaker-disabled",
    ),
    pytest.param(
        "04_payment_response_lost.yaml",
        {"ORDERS_SEND_IDEMPOTENCY_KEY": False},
        "each order is charged exactly once",
        id="idempotency-key-not-sent",
    ),
    pytest.param(
        "06_partition_orders_notifications.yaml",
        {"OUTBOX_ENABLED": False},
        "events wait in the outbox during the partition",
        id="outbox-bypassed",
    ),
]


@pytest.fixture(scope="module")
def unprotected_results(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ExperimentResult]:
    """Each bite's experiment on a shop with its protection off, all at once (each worker on a
    shop of its own, as `harness chaos run --parallel` runs them): by experiment file name."""
    from harness.pytest_plugin import topology_path
    from harness.topology import load_topology

    experiments = []
    for bite in BITES:
        name, unprotected = bite.values[0], bite.values[1]
        experiment = load_experiment(CHAOS_DIR / name)
        experiments.append(experiment.model_copy(update={"env": {**experiment.env, **unprotected}}))
    results = run_suite(
        experiments,
        load_topology(topology_path(pytestconfig)),
        journal_dir=tmp_path_factory.mktemp("journals"),
        fail_fast=True,
        parallel=len(experiments),
    )
    return {bite.values[0]: result for bite, result in zip(BITES, results, strict=True)}


@pytest.mark.parametrize(("name", "unprotected", "guard"), BITES)
def test_experiment_fails_naming_its_guard_when_the_protection_is_off(
    name: str,
    unprotected: dict[str, Any],
    guard: str,
    unprotected_results: dict[str, ExperimentResult],
) -> None:
    result = unprotected_results[name]
    assert result.experiment.env == {**load_experiment(CHAOS_DIR / name).env, **unprotected}
    assert result.status == "failed", result.summary()
    assert guard in result.failed_names, result.summary()
