"""Images for a topology: one per service and one for the fault proxy, no registry needed.

- The *app image* `localhost/harness-app:<hash>` is FROM the base image (`base_image()`:
  the registry-free `localhost/pybase:latest`, or any `python:3.X-slim`), with the
  services' dependencies (`pydeps`) and the sources of the packages their apps live in,
  plus `harness.faultproxy` (templates: `app.Dockerfile`).
- Each *service image* `localhost/harness-<service>:<hash>` is the app image with the
  service's own command, port and labels; so is `localhost/harness-fault-proxy`. They are
  made by committing a (never started) container of the app image with those changes, as
  `docker commit --change` does: 0.3 s each, where a one-line Dockerfile build takes 1-2 s.

Every tag carries a hash of all that goes into the image, so an image that exists is never
built again: only the first system of a machine (or of a source change) pays for builds.
The app image is built through testcontainers' `DockerImage`.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata as metadata
import importlib.util
import json
import logging
import os
import shutil
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.runtime.backends.containers.engine import (
    base_image,
    client_settings,
    containers_dir,
    docker_client,
)
from harness.runtime.backends.containers.pydeps import (
    BYTECODE_MODE,
    SERVER_REQUIREMENTS,
    install_dependencies,
    pinned_closure,
)
from harness.runtime.commands import service_argv
from harness.runtime.errors import HarnessRuntimeError
from harness.topology import ServiceSpec, Topology

if TYPE_CHECKING:
    import docker

__all__ = [
    "CONTAINER_RUN_DIR",
    "CONTAINER_TOPOLOGY_DIR",
    "FAULT_PROXY_API_PORT",
    "SERVICE_PORT",
    "BuildReport",
    "ImagePlan",
    "build_images",
    "container_values",
    "fault_proxy_command",
    "plan_images",
]

log = logging.getLogger(__name__)

SERVICE_PORT = 8000  # every service listens here inside its container
FAULT_PROXY_API_PORT = 8474
CONTAINER_RUN_DIR = "/harness/run"  # the run directory, bind-mounted
CONTAINER_TOPOLOGY_DIR = "/harness/topology"  # the topology file's directory, read-only
FAULT_PROXY_IMAGE_NAME = "fault-proxy"
FAULT_PROXY_PACKAGE = "harness.faultproxy"
# The modules of `harness` outside its package that the fault proxy imports (checked by
# tests/harness/test_fault_proxy_image_files.py, which runs it from just these files).
FAULT_PROXY_NEEDS = ("lazy_exports.py",)
_TEMPLATES = Path(__file__).parent
Progress = Callable[[str], None]


def container_values(service: ServiceSpec) -> dict[str, str]:
    """Template values (`{run_dir}`, `{port}`, ...) as seen inside the service's container."""
    return {
        "run_dir": CONTAINER_RUN_DIR,
        "port": str(SERVICE_PORT),
        "host": "0.0.0.0",  # inside its container; published on 127.0.0.1 only
        "name": service.name,
        "python": "python3",
        "topology_dir": CONTAINER_TOPOLOGY_DIR,
    }


def fault_proxy_command() -> list[str]:
    return [
        "python3", "-m", FAULT_PROXY_PACKAGE,
        "--host", "0.0.0.0", "--port", str(FAULT_PROXY_API_PORT),
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """What to build: the app image's ingredients, and each image's command and port."""

    base: str
    requirements: list[str]
    sources: dict[str, Path]  # top-level module -> its package directory (or .py file)
    commands: dict[str, list[str]]  # image name (service, or "fault-proxy") -> command
    ports: dict[str, int]


@dataclass(slots=True)
class BuildReport:
    """Tags by image name (each service, "fault-proxy", "app"), and what building cost."""

    tags: dict[str, str]
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    dependencies_seconds: float = 0.0
    build_seconds: float = 0.0

    def describe(self) -> str:
        if not self.built:
            return f"all {len(self.reused)} images up to date"
        return (
            f"built {len(self.built)} images in {self.build_seconds:.1f} s "
            f"(dependencies {self.dependencies_seconds:.1f} s), reused {len(self.reused)}"
        )


def plan_images(topology: Topology, *, base: str | None = None) -> ImagePlan:
    """The images `topology` needs; raises `HarnessRuntimeError` for services that cannot
    be built (a `command`, only a `url`, or an app whose package is not importable here)."""
    commands: dict[str, list[str]] = {}
    roots: list[str] = []
    sources: dict[str, Path] = {}
    for service in topology.services.values():
        _check_buildable(service)
        assert service.app is not None
        module = service.app.split(":", 1)[0].split(".", 1)[0]
        sources[module] = _source_of(module, service.name)
        roots += [*_requirements_of(module, service.name), SERVER_REQUIREMENTS[service.kind]]
        commands[service.name] = service_argv(service, container_values(service))
    if topology.edges:
        sources["harness"] = Path(__file__).resolve().parents[3]
        if _installed("uvloop"):
            roots.append("uvloop")  # the fault proxy's event loop when present
        commands[FAULT_PROXY_IMAGE_NAME] = fault_proxy_command()
    ports = {name: SERVICE_PORT for name in topology.services}
    ports[FAULT_PROXY_IMAGE_NAME] = FAULT_PROXY_API_PORT
    return ImagePlan(
        base=base or base_image(),
        requirements=pinned_closure(roots),
        sources=sources,
        commands=commands,
        ports={name: ports[name] for name in commands},
    )


def _check_buildable(service: ServiceSpec) -> None:
    if service.app is None:
        how = "a `command`" if service.command is not None else "only a `url`"
        raise HarnessRuntimeError(
            f"service {service.name!r} has {how}: the containers backend builds an image for "
            "each service from its `app` (an ASGI/WSGI app path); use the process or attach "
            "backend for this topology"
        )


def _source_of(module: str, service: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise HarnessRuntimeError(
            f"service {service!r}: module {module!r} is not importable here, so its source "
            "cannot go into an image; install its project (pip install -e ...)"
        )
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin is None:
        raise HarnessRuntimeError(f"service {service!r}: module {module!r} has no source file")
    return Path(spec.origin)


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _requirements_of(module: str, service: str) -> list[str]:
    names = metadata.packages_distributions().get(module) or (
        [module] if _installed(module) else []
    )
    if not names:
        raise HarnessRuntimeError(
            f"service {service!r}: no installed distribution provides module {module!r}, so "
            "its dependencies are unknown; install its project (pip install -e ...)"
        )
    return [r for name in names for r in metadata.requires(name) or []]


# ---------------------------------------------------------------------------------- building


def build_images(
    plan: ImagePlan,
    *,
    client: docker.DockerClient | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build what is missing of `plan`: the app image, then each service's image."""
    say = progress or (lambda _line: None)
    engine = client or docker_client()
    try:
        started = time.perf_counter()
        app_tag = _app_tag(plan, _base_image_id(engine, plan.base))
        report = BuildReport(tags={"app": app_tag})
        if _image_exists(engine, app_tag):
            report.reused.append("app")
        else:
            say(f"building {app_tag} (dependencies, then sources)")
            workdir = containers_dir()
            pydeps = install_dependencies(plan.requirements, cache_dir=workdir / "pydeps")
            report.dependencies_seconds = time.perf_counter() - started
            context = _app_context(plan, pydeps, workdir)
            try:
                _build(context, app_tag)
            finally:
                shutil.rmtree(context, ignore_errors=True)
            report.built.append("app")
        for name, command in plan.commands.items():
            changes = _service_changes(name, command, plan.ports[name])
            tag = _tag(name, "\n".join([app_tag, *changes]))
            report.tags[name] = tag
            if _image_exists(engine, tag):
                report.reused.append(name)
            else:
                _commit_service_image(engine, app_tag, tag, changes)
                report.built.append(name)
        report.build_seconds = time.perf_counter() - started - report.dependencies_seconds
        return report
    finally:
        if client is None:
            engine.close()


def _tag(name: str, text: str) -> str:
    return f"localhost/harness-{name}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _base_image_id(engine: docker.DockerClient, base: str) -> str:
    """The base image's id; checks its Python minor version against this interpreter's."""
    from docker.errors import ImageNotFound

    try:
        image = engine.images.get(base)
    except ImageNotFound:
        raise HarnessRuntimeError(
            f"base image {base!r} is not there: run scripts/containers/setup.sh (it makes "
            "localhost/pybase:latest without a registry) or pull a python image and set "
            "HARNESS_CONTAINERS_BASE_IMAGE"
        ) from None
    config = image.attrs.get("Config") or {}
    labels = config.get("Labels") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    python_version = env.get("PYTHON_VERSION", "")  # set by the python:3.X images
    found = labels.get("io.harness.python") or ".".join(python_version.split(".")[:2])
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if found and found != mine:
        raise HarnessRuntimeError(
            f"base image {base!r} has Python {found}, this interpreter is {mine}: the "
            "dependencies installed here would not fit; use a base image with Python " + mine
        )
    return str(image.id)


def _source_items(plan: ImagePlan) -> list[tuple[Path, str]]:
    """(source, destination under src/) for what goes into the app image: whole packages,
    but of `harness` only its marker, the fault proxy and the modules it imports
    (`FAULT_PROXY_NEEDS`), so the app image is not rebuilt whenever another part of the
    harness changes."""
    items = []
    for module, path in sorted(plan.sources.items()):
        if module == "harness":
            items += [(path / "__init__.py", "harness/__init__.py")]
            items += [(path / "faultproxy", "harness/faultproxy")]
            items += [(path / name, f"harness/{name}") for name in FAULT_PROXY_NEEDS]
        else:
            items.append((path, module if path.is_dir() else path.name))
    return items


def _files(root: Path) -> list[tuple[Path, str]]:
    """(file, path relative to `root`) under `root` (or `root` itself), without caches,
    hidden files and databases."""
    if root.is_file():
        return [(root, "")]
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        hidden = any(p == "__pycache__" or p.startswith(".") for p in relative.parts)
        database = path.suffix == ".db" or ".db-" in path.name
        if hidden or database or path.suffix == ".pyc" or not path.is_file():
            continue
        found.append((path, str(relative)))
    return found


def _app_tag(plan: ImagePlan, base_id: str) -> str:
    digest = hashlib.sha256()
    for source, destination in _source_items(plan):
        for path, relative in _files(source):
            digest.update(f"{destination}/{relative}".encode())
            digest.update(path.read_bytes())
    template = (_TEMPLATES / "app.Dockerfile").read_text(encoding="utf-8")
    return _tag("app", "\n".join([base_id, template, *plan.requirements, digest.hexdigest()]))


def _app_context(plan: ImagePlan, pydeps: Path, workdir: Path) -> Path:
    context = workdir / "build" / f"app-{os.getpid()}"
    shutil.rmtree(context, ignore_errors=True)
    src = context / "src"
    src.mkdir(parents=True)
    _link_tree(pydeps, context / "pydeps")
    for source, destination in _source_items(plan):
        for path, relative in _files(source):
            target = src / destination / relative if relative else src / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    compileall.compile_dir(src, quiet=1, invalidation_mode=BYTECODE_MODE)
    template = string.Template((_TEMPLATES / "app.Dockerfile").read_text(encoding="utf-8"))
    (context / "Dockerfile").write_text(template.substitute(base_image=plan.base))
    return context


def _link_tree(source: Path, target: Path) -> None:
    """Hard links where possible (the context is sent to the engine, not kept)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _service_changes(name: str, command: list[str], port: int) -> list[str]:
    """Dockerfile instructions that make the app image into this service's image."""
    return [
        f"CMD {json.dumps(command)}",
        f"EXPOSE {port}",
        f"ENV HARNESS_SERVICE={name}",
        f"LABEL io.harness.image=service io.harness.service={name}",
    ]


def _commit_service_image(
    engine: docker.DockerClient, app_tag: str, tag: str, changes: list[str]
) -> None:
    from docker.errors import APIError

    repository, _, version = tag.rpartition(":")
    container = engine.containers.create(app_tag, command=["true"])
    try:
        container.commit(repository=repository, tag=version, changes=changes)
    except APIError as exc:
        raise HarnessRuntimeError(f"making image {tag} failed: {exc}") from None
    finally:
        container.remove(force=True)
    log.info("made %s", tag)


def _image_exists(engine: docker.DockerClient, tag: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        engine.images.get(tag)
    except ImageNotFound:
        return False
    return True


def _build(context: Path, tag: str) -> None:
    from docker.errors import APIError, BuildError
    from testcontainers.core.image import DockerImage

    started = time.perf_counter()
    try:
        DockerImage(
            path=context, tag=tag, clean_up=False, docker_client_kw=client_settings()
        ).build()
    except (BuildError, APIError) as exc:
        raise HarnessRuntimeError(f"building {tag} failed: {exc}") from None
    log.info("built %s in %.1f s", tag, time.perf_counter() - started)
