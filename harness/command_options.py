"""The options every stage command shares, spelt once: `-t/--topology`, `--seed`, `--out`,
`--junit-xml`, `-q/--quiet` and `-v/--verbose`, and the one topology lookup."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption

from harness.console import make_console
from harness.topology.lookup import TOPOLOGY_ENV

if TYPE_CHECKING:  # typer's own copy of click, which its classes use
    from rich.console import Console
    from typer._click.core import Command, Context
    from typer._click.formatting import HelpFormatter

__all__ = [
    "HarnessGroup",
    "JUnitOption",
    "OutOption",
    "QuietOption",
    "SeedOption",
    "TopologyOption",
    "VerboseOption",
    "command_group",
    "progress_console",
    "resolve_topology",
]

TopologyOption = Annotated[
    Path | None,
    typer.Option(
        "--topology",
        "-t",
        help=f"The system's topology (default: ${TOPOLOGY_ENV}, else ./system.toml).",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option("--seed", help="Seed of the run: the same seed replays it.", show_default=False),
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Output directory (reports, journals).", show_default=False),
]
JUnitOption = Annotated[
    Path | None,
    typer.Option(
        "--junit-xml",
        metavar="PATH",
        help="Write JUnit XML here: one test suite per stage, one test case per check.",
        show_default=False,
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only the verdict and where the reports are."),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also print the harness's own log (debug).")
]


def resolve_topology(option: Path | None, *, command: str) -> Path:
    """`-t`, else $HARNESS_TOPOLOGY, else ./system.toml; exit 2 saying what was looked for."""
    from harness.topology import TopologyError, find_topology

    try:
        return find_topology(option)
    except TopologyError as exc:
        make_console(stderr=True, highlight=False).print(
            f"{command}: {exc}", style="red", markup=False
        )
        raise typer.Exit(2) from None


def progress_console(*, quiet: bool, verbose: bool) -> Console:
    """Where a command's progress goes (stderr): nothing with -q; with -v the harness's
    loggers print there too."""
    if quiet and verbose:
        raise typer.BadParameter("-q/--quiet and -v/--verbose exclude each other")
    if verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger = logging.getLogger("harness")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return make_console(stderr=True, quiet=quiet)


def _without_flag_types(command: TyperCommand | TyperGroup, ctx: Context) -> None:
    # Typer's rich help shows a flag's type (`--quiet <bool>`); a flag takes no value, so
    # an empty metavar shows nothing there. The help option is made on first use.
    params = [*command.params, command.get_help_option(ctx)]
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""


class HarnessGroup(TyperGroup):
    """The `harness` command groups: help without stray types on flags.

    `lazy_commands` are (name, module holding `app: typer.Typer`) pairs whose module is
    imported only when that command is called or a help lists it, so that `harness chaos run`
    does not build (nor import) every other area's commands. A module that is not there is
    skipped: an area that has not landed yet leaves the others working.
    """

    lazy_commands: ClassVar[tuple[tuple[str, str], ...]] = ()

    def _mount(self, name: str) -> None:
        module_name = dict(self.lazy_commands).get(name)
        if module_name is None or name in self.commands:
            return
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                return
            raise
        self.add_command(typer.main.get_group(module.app), name)

    def list_commands(self, ctx: Context) -> list[str]:
        lazy = [name for name, _ in self.lazy_commands]
        for name in lazy:
            self._mount(name)
        eager = [name for name in super().list_commands(ctx) if name not in lazy]
        return [*eager, *(name for name in lazy if name in self.commands)]

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] not in self.commands and args[0] not in dict(self.lazy_commands):
            self.list_commands(ctx)  # an unknown name: the suggestions then see every command
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        self._mount(cmd_name)
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, (TyperCommand, TyperGroup)):
            _without_flag_types(command, ctx)
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        _without_flag_types(self, ctx)
        super().format_help(ctx, formatter)


def command_group(*, name: str, help: str) -> typer.Typer:
    """A `harness NAME` group whose bare call prints its help and says a command is needed
    (exit 2), rather than running anything."""
    group = typer.Typer(
        name=name, help=help, add_completion=False, rich_markup_mode="rich", cls=HarnessGroup
    )

    @group.callback(invoke_without_command=True)
    def _needs_a_command(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            typer.echo(ctx.get_help())
            commands = ", ".join(sorted(ctx.command.commands))  # type: ignore[attr-defined]
            make_console(stderr=True, highlight=False).print(
                f"harness {name}: needs a command ({commands})", style="red", markup=False
            )
            raise typer.Exit(2)

    return group
