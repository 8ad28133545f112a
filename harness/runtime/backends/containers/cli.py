"""`harness containers build | clean | check`: the containers backend's images and leftovers.

    harness containers build -t system.toml
    harness containers clean     # remove what crashed runs left
    harness containers check     # is an engine there? (exit 1 if not)

(also `python -m harness.runtime.backends.containers ...`)

`build` makes every image a topology needs in one go (a later `harness up --backend
containers` then starts at once) and prints what it built and how long it took.
"""

from __future__ import annotations

import typer

from harness.command_options import TopologyOption, command_group
from harness.console import make_console

__all__ = ["app"]

app = command_group(
    name="containers",
    help="The containers backend: build a topology's images, clean what crashed runs left.",
)
out = make_console(highlight=False)
err = make_console(stderr=True, highlight=False)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print("[red]error:[/red] ", end="")
    err.print(message, markup=False)
    return typer.Exit(code)


def _require_engine() -> None:
    from harness.runtime.backends.containers.engine import engine_unavailable_reason

    reason = engine_unavailable_reason()
    if reason is not None:
        raise _fail(reason)


@app.command()
def check() -> None:
    """Exit 0 when a Docker-compatible engine answers, else 1 with the reason."""
    _require_engine()
    out.print("a container engine answers")


@app.command()
def build(
    topology: TopologyOption = None,
) -> None:
    """Build (or find up to date) the app image and every service's image of a topology."""
    from harness.runtime.backends.containers.engine import EngineUnavailable
    from harness.runtime.backends.containers.images import build_images, plan_images
    from harness.runtime.errors import HarnessRuntimeError
    from harness.topology import TopologyError, find_topology, load_topology

    try:
        spec = load_topology(find_topology(topology))
        plan = plan_images(spec)
    except TopologyError as exc:
        raise _fail(str(exc), 2) from None
    except HarnessRuntimeError as exc:
        raise _fail(str(exc), 2) from None
    _require_engine()
    try:
        report = build_images(plan, progress=lambda line: err.print(line, markup=False))
    except (EngineUnavailable, HarnessRuntimeError) as exc:
        raise _fail(str(exc)) from None
    for name, tag in report.tags.items():
        state = "built" if name in report.built else "up to date"
        out.print(f"{name:<16} {tag}  ({state})")
    out.print(report.describe())


@app.command()
def clean() -> None:
    """Remove the containers and networks of runs nobody will stop any more."""
    from harness.runtime.backends.containers.cleanup import clean_stale_containers

    _require_engine()
    cleaned = clean_stale_containers()
    for run_id, left in cleaned.items():
        note = f" (left: {', '.join(left)})" if left else ""
        out.print(f"removed the containers of stale run {run_id}{note}")
    if not cleaned:
        out.print("nothing to clean")
    if any(cleaned.values()):
        raise typer.Exit(1)
