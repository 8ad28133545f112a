"""Removing a run's containers and network, and finding runs nobody will stop any more.

A run is found by its labels, not by its state file, so what a crashed start created before
it could record anything is found too. A labelled run is *stale* when its state file is gone,
says it stopped, or belongs to an owner that died without handing the run over
(`harness.runtime.teardown.is_stale`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from requests.exceptions import RequestException

from harness.runtime.backends.containers.engine import EngineUnavailable, docker_client
from harness.runtime.backends.containers.labels import LABEL_RUN_DIR, LABEL_RUN_ID, run_filter
from harness.runtime.rundir import read_state
from harness.runtime.teardown import owner_alive

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

__all__ = ["clean_stale_containers", "labelled_runs", "remove_run", "run_has_live_containers"]

log = logging.getLogger(__name__)
LIVE_STATUSES = frozenset({"created", "running", "paused", "restarting"})


def remove_run(run_id: str, *, client: docker.DockerClient | None = None) -> list[str]:
    """Remove every container (forcibly) and the network of run `run_id`.

    Returns what could not be removed (empty: nothing of the run is left).
    """
    from docker.errors import DockerException

    try:
        engine = client or docker_client()
    except EngineUnavailable as exc:
        return [f"containers of run {run_id}: {exc}"]
    left: list[str] = []
    try:
        for container in _containers(engine, run_filter(run_id)):
            what = f"container {container.name or container.short_id}"
            _remove(partial(container.remove, force=True), what, left)
        for network in engine.networks.list(filters=run_filter(run_id)):
            _remove(network.remove, f"network {network.name}", left)
    except (DockerException, RequestException) as exc:
        left.append(f"containers of run {run_id}: the engine failed: {exc}")
    finally:
        if client is None:
            engine.close()
    return left


def _containers(engine: docker.DockerClient, filters: dict[str, str]) -> list[Container]:
    """The containers the filters match, as the list endpoint describes them (`sparse`).

    Without `sparse`, docker-py inspects each listed container in a second request, and a
    container another run removes in between fails the whole listing: Podman answers that
    inspection 500 "no such container", not the 404 docker-py would skip.
    """
    return engine.containers.list(all=True, filters=filters, sparse=True)  # type: ignore[no-any-return]


def _gone(exc: Exception) -> bool:
    """True for the engine's "no such container/network" (a 404, or Podman's 500)."""
    from docker.errors import NotFound

    return isinstance(exc, NotFound) or "no such" in str(exc).lower()


def _remove(action: Callable[[], object], what: str, left: list[str]) -> None:
    from docker.errors import DockerException

    try:
        action()
    except DockerException as exc:
        if not _gone(exc):  # already gone: what we wanted
            left.append(f"{what}: {exc}")


def run_has_live_containers(run_id: str, *, client: docker.DockerClient | None = None) -> bool:
    """True while a container of the run exists and is not stopped (or the engine is away,
    in which case nothing can be known and nothing should be cleaned)."""
    from docker.errors import DockerException

    try:
        engine = client or docker_client()
    except EngineUnavailable:
        return True
    try:
        return any(c.status in LIVE_STATUSES for c in _containers(engine, run_filter(run_id)))
    except (DockerException, RequestException):
        return True
    finally:
        if client is None:
            engine.close()


def labelled_runs(client: docker.DockerClient) -> dict[str, Path | None]:
    """Every run that has a labelled container or network: run id -> its run directory."""
    runs: dict[str, Path | None] = {}
    objects = [
        *_containers(client, run_filter()),
        *client.networks.list(filters=run_filter()),
    ]
    for obj in objects:
        labels = _labels(obj.attrs)
        run_id = labels.get(LABEL_RUN_ID)
        if run_id:
            run_dir = labels.get(LABEL_RUN_DIR)
            runs[run_id] = Path(run_dir) if run_dir else None
    return runs


def _labels(attrs: dict[str, object]) -> dict[str, str]:
    config = attrs.get("Config")
    labels = config.get("Labels") if isinstance(config, dict) else attrs.get("Labels")
    return dict(labels) if isinstance(labels, dict) else {}


def _is_stale(run_dir: Path | None, engine: docker.DockerClient) -> bool:
    state = read_state(run_dir) if run_dir is not None else None
    if state is None or state.status == "stopped":
        return True
    if owner_alive(state):
        return False
    return not state.detached or not run_has_live_containers(state.run_id, client=engine)


def clean_stale_containers(*, client: docker.DockerClient | None = None) -> dict[str, list[str]]:
    """Remove the containers and networks of every stale run.

    Returns `{run id: what could not be removed}` for each run cleaned.
    """
    engine = client or docker_client()
    try:
        cleaned = {}
        for run_id, run_dir in labelled_runs(engine).items():
            if _is_stale(run_dir, engine):
                log.warning("removing the containers of stale run %s (%s)", run_id, run_dir)
                cleaned[run_id] = remove_run(run_id, client=engine)
        return cleaned
    finally:
        if client is None:
            engine.close()
