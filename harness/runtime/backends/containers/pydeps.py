"""The services' Python dependencies, installed on the host for the containers.

No container runs pip: images must build without a registry or a package index, and pip
inside a container fails TLS verification behind an intercepting proxy. Instead the
closure of the services' requirements is pinned to the versions installed in *this*
interpreter (so containers run what the process backend runs), installed on the host with
`uv pip install --target` (else pip) for this Python minor version, byte-compiled, and kept
in a cache directory named by a hash of that list: every later build reuses it.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata as metadata
import logging
import platform
import py_compile
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.runtime.errors import HarnessRuntimeError

__all__ = [
    "BYTECODE_MODE",
    "SERVER_REQUIREMENTS",
    "install_dependencies",
    "pinned_closure",
    "requirements_hash",
]

log = logging.getLogger(__name__)

# Images never change once built, so the .pyc files need no source check.
BYTECODE_MODE = py_compile.PycInvalidationMode.UNCHECKED_HASH
SERVER_REQUIREMENTS = {"asgi": "uvicorn[standard]", "wsgi": "gunicorn"}
INSTALL_TIMEOUT = 600.0


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def pinned_closure(roots: Iterable[str]) -> list[str]:
    """`name==version` for every distribution the `roots` need (transitively, with extras),
    at the version installed here; a requirement not installed here is kept as written."""
    pinned: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    todo = [Requirement(root) for root in roots]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in extras_seen and extras <= extras_seen[name]:
            continue
        extras_seen[name] = extras_seen.get(name, set()) | extras
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            pinned[name] = str(requirement).split(";")[0].strip()
            continue
        pinned[name] = f"{name}=={distribution.version}"
        for text in distribution.requires or []:
            dependency = Requirement(text)
            if _wanted(dependency, extras_seen[name]):
                todo.append(dependency)
    return sorted(pinned.values())


def requirements_hash(requirements: Iterable[str]) -> str:
    text = "\n".join(requirements) + f"\npython {sys.version_info[0]}.{sys.version_info[1]}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def install_dependencies(requirements: list[str], *, cache_dir: Path) -> Path:
    """A directory holding `requirements` installed and byte-compiled (cached by hash)."""
    target = cache_dir / requirements_hash(requirements)
    if (target / ".complete").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".{target.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    listing = cache_dir / f"{target.name}.txt"
    listing.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    command = _install_command(staging, listing)
    log.info("installing %d distributions for the containers: %s", len(requirements), command)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessRuntimeError(f"installing the containers' dependencies: {exc}") from None
    if done.returncode != 0:
        raise HarnessRuntimeError(
            f"installing the containers' dependencies failed ({' '.join(command)}):\n"
            + (done.stderr or done.stdout)[-3000:]
        )
    compileall.compile_dir(staging, quiet=1, workers=0, invalidation_mode=BYTECODE_MODE)
    (staging / ".complete").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _install_command(target: Path, listing: Path) -> list[str]:
    """uv when there is one (fast, and it can ask for wheels that fit an older glibc than
    the host's, as in the base image); else this interpreter's pip."""
    uv = shutil.which("uv")
    if uv is not None:
        return [
            uv, "pip", "install", "--quiet", "--target", str(target),
            "--python", sys.executable,
            "--python-platform", f"{platform.machine()}-manylinux_2_28",
            "-r", str(listing),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-warn-script-location", "--target", str(target), "-r", str(listing),
    ]  # fmt: skip
