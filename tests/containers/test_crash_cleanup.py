"""What a run leaves when its owner dies, and who cleans it: a crashed run is removed by the
next start (even what a start left before recording anything); a run handed over to the CLI
(`harness up`) lives until `harness down`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from containers_helpers import run_objects

from harness.runtime.backends.containers.cleanup import clean_stale_containers
from harness.runtime.backends.containers.engine import base_image, docker_client
from harness.runtime.backends.containers.labels import run_labels
from harness.runtime.rundir import read_state

pytestmark = pytest.mark.containers

HERE = Path(__file__).parent
START_TIMEOUT = 240


def test_a_crashed_run_leaves_nothing_the_next_start_cannot_clean(
    engine: None, home: Path, tmp_path: Path
) -> None:
    """The owner dies with its run up (SIGKILL: nothing torn down); the next `harness up`
    removes the leftovers, and its own run, handed over to the CLI, outlives `up` (it is
    not stale while its containers live) until `harness down` leaves nothing behind."""
    owner = subprocess.run(
        [sys.executable, str(HERE / "crashing_owner.py"), str(home)],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert owner.returncode == -9, owner.stderr[-2000:]
    crashed = read_state(Path(owner.stdout.strip()))
    assert crashed is not None
    assert crashed.status == "running"
    left = run_objects(crashed.run_id)
    assert len(left) == 4, f"3 containers and a network stay after the crash: {left}"

    up = _cli(home, "up", "--backend", "containers", "--topology", str(_users_only(tmp_path)))
    assert up.returncode == 0, up.stderr[-2000:]
    assert run_objects(crashed.run_id) == []
    after = read_state(Path(owner.stdout.strip()))
    assert after is not None
    assert after.status == "stopped"

    status = _cli(home, "status")  # another process, after `up` exited
    assert status.returncode == 0, status.stdout + status.stderr
    assert "containers backend, running" in status.stdout
    run_dir = Path(status.stdout.split("run ", 1)[1].split(" (", 1)[0])
    detached = read_state(run_dir)
    assert detached is not None
    assert len(run_objects(detached.run_id)) == 2, "the service's container and the network"

    down = _cli(home, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "no process left, every port closed" in down.stdout
    assert run_objects(detached.run_id) == []


def _users_only(directory: Path) -> Path:
    topology = directory / "system.toml"
    topology.write_text(
        '[services.users]\napp = "shop.users.app:app"\n'
        '[system.env]\nDATABASE_URL = "sqlite:///{run_dir}/{name}.db"\n',
        encoding="utf-8",
    )
    return topology


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


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
