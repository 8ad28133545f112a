"""The command line that starts each service: uvicorn for ASGI, gunicorn for WSGI, or the
topology's own `command`, with placeholders filled in."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from harness.runtime.ports import LOOPBACK
from harness.topology import ServiceSpec, render_template

__all__ = ["GRACEFUL_SECONDS", "service_argv", "service_cwd", "template_values"]

GRACEFUL_SECONDS = 2  # how long a server may drain connections on SIGTERM


def template_values(
    service: ServiceSpec, *, port: int, run_dir: Path, base_dir: Path
) -> dict[str, str]:
    """Values for `{run_dir}`, `{port}`, `{host}`, `{name}`, `{python}`, `{topology_dir}`."""
    return {
        "run_dir": str(run_dir.resolve()),
        "port": str(port),
        "host": LOOPBACK,
        "name": service.name,
        "python": sys.executable,
        "topology_dir": str(base_dir.resolve()),
    }


def service_cwd(service: ServiceSpec, values: Mapping[str, str], base_dir: Path) -> Path:
    """The working directory: `cwd` (relative to the topology file), else the file's directory."""
    if service.cwd is None:
        return base_dir
    return (base_dir / render_template(service.cwd, values)).resolve()


def service_argv(service: ServiceSpec, values: Mapping[str, str]) -> list[str]:
    """argv for a startable service (`app` or `command`).

    `values` (see `template_values`) also say which Python runs an `app` and where it binds
    (`python`, `host`): the containers backend passes its own.
    """
    port, python, host = values["port"], values["python"], values["host"]
    if service.command is not None:
        return [render_template(part, values) for part in service.command]
    if service.app is None:
        raise ValueError(f"service {service.name!r} has neither 'app' nor 'command'")
    if service.kind == "wsgi":
        return [
            python, "-m", "gunicorn", service.app,
            "--bind", f"{host}:{port}",
            "--workers", str(service.workers),
            "--threads", str(service.threads),
            "--graceful-timeout", str(GRACEFUL_SECONDS),
            "--access-logfile", "-",
            "--error-logfile", "-",
            "--no-control-socket",  # gunicorn 27 defaults to one shared ~/.gunicorn/gunicorn.ctl
        ]  # fmt: skip
    return [
        python, "-m", "uvicorn", service.app,
        "--host", host,
        "--port", port,
        "--timeout-graceful-shutdown", str(GRACEFUL_SECONDS),
    ]  # fmt: skip
