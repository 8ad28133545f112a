"""The `harness` command: `up`, `status`, `down`, `logs`, plus each area's own sub-commands.

Each area exposes `app: typer.Typer` in `harness/<area>/cli.py`; `SUBCOMMANDS` lists the ones
mounted here, each imported only when it is called or a help lists it (an area whose module
is not there yet is skipped, so the CLI always starts). Command modules import what their
commands run inside the commands: building the CLI, or printing a help, imports none of it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli import system as system_commands
from harness.command_options import HarnessGroup
from harness.explore import cli as explore_command
from harness.faultproxy import cli as toxiproxy_command
from harness.pipeline import cli as pipeline_commands

__all__ = ["SUBCOMMANDS", "app", "main"]

# (command name, module holding `app: typer.Typer`)
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("chaos", "harness.chaos.cli"),
    ("load", "harness.load.cli"),
    ("fuzz", "harness.fuzz.cli"),
    ("contracts", "harness.contracts.cli"),
    ("containers", "harness.runtime.backends.containers.cli"),
)


class _HarnessCommand(HarnessGroup):
    """The root group: the areas' groups are mounted when called or listed."""

    lazy_commands = SUBCOMMANDS


app = typer.Typer(
    name="harness",
    help="Contract and chaos testing harness for HTTP microservices.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,
    cls=_HarnessCommand,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        typer.echo(f"harness {metadata.version('harness')}")
        raise typer.Exit()


@app.callback()
def _harness(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Contract and chaos testing harness for HTTP microservices."""


system_commands.register(app)
pipeline_commands.register(app)
toxiproxy_command.register(app)
explore_command.register(app)


def main() -> None:
    """Console-script entry point (`harness = "harness.cli:main"`)."""
    app()
