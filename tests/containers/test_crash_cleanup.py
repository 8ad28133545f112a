"""What a run leaves when its owner dies, and who cleans it: a crashed run is removed by the
next start; a run handed over to the CLI (`harness up`) lives until `harness down`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from containers_helpers import run_objects, shop_subset

from harness.runtime import start_system
from harness.runtime.containers.cleanup import clean_stale_containers
from harness.runtime.containers.engine import base_image, docker_client
from harness.runtime.containers.labels import run_labels
from harness.runtime.rundir import read_state

pytestmark = pytest.mark.containers

HERE = Path(__file__).parent
START_TIMEOUT = 240


def test_a_crashed_run_leaves_nothing_the_next_start_cannot_clean(engine: None, home: Path) -> None:
    owner = subprocess.run(
        [sys.executable, str(HERE / "crashing_owner.py"), str(home)],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert owner.returncode == -9, owner.stderr[-2000:]
    run_dir = Path(owner.stdout.strip())
    crashed = read_state(run_dir)
    assert crashed is not None
    assert crashed.status == "running"
    left = run_objects(crashed.run_id)
    assert len(left) == 4, f"3 containers and a network stay after the crash: {left}"

    with start_system(shop_subset(["users"], []), backend="containers", home=home) as system:
        assert run_objects(crashed.run_id) == []
        after = read_state(run_dir)
        assert after is not None
        assert after.status == "stopped"
        assert system.health() == {"users": None}
    assert run_objects(system.state.run_id) == []


def test_containers_a_start_left_before_recording_anything_are_removed(
    engine: None, tmp_path: Path
) -> None:
    """A start killed right after creating its network and first container: no state file
    (the labels point at a run directory that holds none), still found and removed."""
    run_id = f"crashed-{uuid.uuid4().hex[:8]}"
    labels = run_labels(run_id, tmp_path / "never-written")
    client = docker_client()
    try:
        network = client.networks.create(f"harness-{run_id}", labels=labels)
        client.containers.run(
            base_image(),
            ["python3", "-c", "import time; time.sleep(600)"],
            detach=True,
            labels=labels,
            network=network.name,
        )
        assert len(run_objects(run_id)) == 2
        cleaned = clean_stale_containers(client=client)
    finally:
        client.close()
    assert cleaned.get(run_id) == []
    assert run_objects(run_id) == []


def test_a_detached_run_lives_until_harness_down(engine: None, home: Path, tmp_path: Path) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        '[services.users]\napp = "shop.users.app:app"\n'
        '[system.env]\nDATABASE_URL = "sqlite:///{run_dir}/{name}.db"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HARNESS_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    harness = [sys.executable, "-m", "harness.cli"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*harness, *args], env=env, capture_output=True, text=True,
            timeout=START_TIMEOUT, check=False,
        )  # fmt: skip

    up = cli("up", "--backend", "containers", "--topology", str(topology))
    assert up.returncode == 0, up.stderr[-2000:]
    status = cli("status")  # another process, after the owner (`up`) exited
    assert status.returncode == 0, status.stdout + status.stderr
    assert "containers backend, running" in status.stdout
    run_dir = Path(status.stdout.split("run ", 1)[1].split(" (", 1)[0])
    state = read_state(run_dir)
    assert state is not None
    assert len(run_objects(state.run_id)) == 2, "the service's container and the network"

    down = cli("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "no process left, every port closed" in down.stdout
    assert run_objects(state.run_id) == []
