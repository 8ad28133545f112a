"""Experiments 08-15 bite: each fails, naming its guard, on the shop mutant it is meant to
catch (scripts/mutants.py applies the code change to a copy of the shop; the system is
started from the copy's topology). That they pass on the shop as built is checked with
every other experiment in test_experiments_integration.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from chaos_paths import CHAOS_DIR, ROOT

from harness.chaos import load_experiment, run_experiment, start_for
from harness.topology import load_topology


def _load_mutants() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shop_mutants", ROOT / "scripts" / "mutants.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MUTANTS = _load_mutants()


@pytest.mark.parametrize("name", sorted(MUTANTS.BY_NAME))
def test_each_mutant_applies_to_this_tree_and_its_services_import(
    name: str, tmp_path: Path
) -> None:
    """A mutant whose text no longer matches the code fails here, not hours into a run."""
    mutant = MUTANTS.BY_NAME[name]
    MUTANTS.build_tree(mutant, tmp_path)
    modules = sorted({e.path.removesuffix(".py").replace("/", ".") for e in mutant.edits})
    code = f"import importlib, shop; [importlib.import_module(m) for m in {modules!r}]; " + (
        "print(shop.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=MUTANTS.env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(str(tmp_path)), "the copy's shop was not imported"


def test_an_edit_that_no_longer_matches_is_refused(tmp_path: Path) -> None:
    stale = MUTANTS.Mutant("stale", "gone", (MUTANTS.Edit("shop/common/retry.py", "no such", ""),))
    with pytest.raises(MUTANTS.MutantError, match="occurs 0 times"):
        MUTANTS.build_tree(stale, tmp_path)


BITES = [
    ("08_pause_payments.yaml", "breaker-never-opens",
     "breaker of orders->payments opens during the freeze"),
    ("08_pause_payments.yaml", "declined-keeps-reservation", "every shop invariant holds"),
    ("09_bulkhead_slow_inventory.yaml", "bulkhead-never-rejects",
     "the bulkhead of gateway->inventory rejects the excess"),
    ("10_reset_peer_unkeyed_writes.yaml", "retry-unkeyed-post",
     "no unkeyed POST to users is ever sent twice"),
    ("10_reset_peer_unkeyed_writes.yaml", "retry-no-backoff-no-bound",
     "retries wait a real backoff between attempts"),
    ("11_gateway_load_shedding.yaml", "rate-limiter-never-429",
     "the gateway answers 429 to the excess"),
    ("12_black_hole_users.yaml", "no-read-timeout",
     "every user read ends within the caller's budget (4 s)"),
    ("13_recovery_every_edge.yaml", "breaker-never-closes",
     "gateway->users closed within 15 s of the heal"),
    ("14_timeout_budget_chain.yaml", "timeout-above-caller",
     "the gateway never times out on orders"),
    ("15_event_redelivery.yaml", "notifications-no-dedupe",
     "every confirmed order is notified exactly once"),
]  # fmt: skip


def _experiment_path(name: str) -> Path:
    """In the shop's pipeline (chaos/) or kept out of it (chaos/detection/)."""
    for path in (CHAOS_DIR / name, CHAOS_DIR / "detection" / name):
        if path.exists():
            return path
    raise AssertionError(f"no experiment {name} in chaos/ or chaos/detection/")


def test_every_bite_names_an_experiment_and_a_mutant_that_exist() -> None:
    for name, mutant, _guard in BITES:
        assert mutant in MUTANTS.BY_NAME
        _experiment_path(name)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.experiment
@pytest.mark.parametrize(("name", "mutant", "guard"), BITES, ids=[f"{b[1]}" for b in BITES])
def test_experiment_fails_naming_its_guard_on_its_mutant(
    name: str, mutant: str, guard: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    topology_path = MUTANTS.build_tree(MUTANTS.BY_NAME[mutant], tree)
    monkeypatch.setenv("PYTHONPATH", MUTANTS.env_for(tree)["PYTHONPATH"])
    experiment = load_experiment(_experiment_path(name))
    with start_for(load_topology(topology_path), dict(experiment.env)) as system:
        result = run_experiment(experiment, system, journal_dir=tmp_path / "journal")
    assert result.status == "failed", result.summary()
    assert guard in result.failed_names, result.summary()
