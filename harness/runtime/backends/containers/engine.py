"""Where the container engine is, and the settings testcontainers needs to drive it.

Any Docker-API engine works: Docker, or Podman serving the Docker API. On machines with no
Docker, `scripts/containers/setup.sh` starts Podman on a socket of the project's own and
writes the settings in `<containers dir>/engine.env` (`DOCKER_HOST`, Podman's config files,
`TESTCONTAINERS_CONNECTION_MODE=docker_host`, ...). `configure_environment()` applies that
file to `os.environ` (variables already set win) and must run before testcontainers is
imported, because testcontainers reads part of its settings at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from harness.runtime.errors import HarnessRuntimeError
from harness.runtime.rundir import harness_home

if TYPE_CHECKING:
    import docker

__all__ = [
    "API_VERSION_ENV",
    "BASE_IMAGE_ENV",
    "CONTAINERS_DIR_ENV",
    "DEFAULT_BASE_IMAGE",
    "ENGINE_ENV_FILE",
    "EngineUnavailable",
    "base_image",
    "client_settings",
    "configure_environment",
    "containers_dir",
    "docker_client",
    "engine_unavailable_reason",
    "read_engine_env",
]

API_VERSION_ENV = "HARNESS_DOCKER_API_VERSION"
CONTAINERS_DIR_ENV = "HARNESS_CONTAINERS_DIR"
ENGINE_ENV_FILE = "engine.env"
BASE_IMAGE_ENV = "HARNESS_CONTAINERS_BASE_IMAGE"
DEFAULT_BASE_IMAGE = "localhost/pybase:latest"
SETUP_HINT = "run scripts/containers/setup.sh (Podman, no registry needed) or set DOCKER_HOST"


class EngineUnavailable(HarnessRuntimeError):
    """No Docker-compatible engine answers."""


def containers_dir() -> Path:
    """Where the engine's settings, caches and build contexts live.

    `$HARNESS_CONTAINERS_DIR`; else the first `.harness/containers` holding an `engine.env`
    in the harness home, the current directory or one of its parents (a run's home may be
    elsewhere, e.g. a test's temporary directory; the engine stays the project's); else
    `<harness home>/containers`.
    """
    configured = os.environ.get(CONTAINERS_DIR_ENV)
    if configured:
        return Path(configured)
    default = harness_home() / "containers"
    cwd = Path.cwd().resolve()
    for candidate in [default, *(p / ".harness" / "containers" for p in (cwd, *cwd.parents))]:
        if (candidate / ENGINE_ENV_FILE).is_file():
            return candidate
    return default


def read_engine_env(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of an env file (blank lines, comments and `export ` are allowed)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for raw in text.splitlines():
        line = raw.strip().removeprefix("export ").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def configure_environment(directory: Path | None = None) -> dict[str, str]:
    """Apply `engine.env` from `directory` (default `containers_dir()`) to `os.environ`.

    Variables already set are kept. Returns the variables this call set.
    """
    env_file = (directory or containers_dir()) / ENGINE_ENV_FILE
    applied = {}
    for key, value in read_engine_env(env_file).items():
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied


def base_image() -> str:
    """The image every service image starts FROM: `$HARNESS_CONTAINERS_BASE_IMAGE`, else the
    registry-free `localhost/pybase:latest` that setup.sh makes (any `python:3.X-slim` works
    where a registry is reachable, X being this interpreter's minor version)."""
    return os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE_IMAGE


def _engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "the default socket (/var/run/docker.sock)"


def client_settings() -> dict[str, str]:
    """Keyword arguments for every Docker SDK client (testcontainers' `docker_client_kw`
    included): the engine's API version, once a client of this process or of its parent
    has learnt it (`docker_client` keeps it in `$HARNESS_DOCKER_API_VERSION`).

    A client given no version asks the engine first (`GET /version`), and Podman answers
    that by looking up its runtime's packages (three `dpkg-query --search` runs, about 0.2
    CPU-seconds): 125 times in one `nox -s containers`, 23 CPU-seconds of nothing.
    """
    version = os.environ.get(API_VERSION_ENV)
    return {"version": version} if version else {}


def docker_client(*, timeout: float = 120.0) -> docker.DockerClient:
    """A Docker SDK client for the configured engine; raises `EngineUnavailable`."""
    configure_environment()
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=int(timeout), **client_settings())
    except DockerException as exc:
        raise EngineUnavailable(
            f"no container engine at {_engine_address()}: {exc}; {SETUP_HINT}"
        ) from None
    os.environ.setdefault(API_VERSION_ENV, client.api.api_version)  # for later clients
    return client


def engine_unavailable_reason(*, timeout: float = 3.0) -> str | None:
    """None when an engine answers a ping, else why not (for skips and error messages)."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    try:
        client = docker_client(timeout=timeout)
    except EngineUnavailable as exc:
        return str(exc)
    try:
        client.ping()
    except (DockerException, RequestException, OSError) as exc:
        return f"no container engine answers at {_engine_address()}: {exc}; {SETUP_HINT}"
    finally:
        client.close()
    return None
