"""Building the `harness` command, and printing any command's help, imports no stage
machinery: every `harness` process (and every spawned worker, which imports the command's
module again) would otherwise pay for schemathesis, pact, httpx, jinja2 ... before doing
anything. Checked by the modules a fresh interpreter ends up with, not by timing."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import SUBCOMMANDS
from harness.command_options import HarnessGroup

# Libraries only a stage's run needs (and the harness models that pull pydantic in).
STAGE_LIBRARIES = frozenset(
    {
        "docker",
        "httpx",
        "jinja2",
        "locust",
        "matplotlib",
        "pact",
        "pact_ffi",
        "prometheus_client",
        "psutil",
        "pydantic",
        "requests",
        "schemathesis",
        "testcontainers",
        "toxiproxy",
        "urllib3",
        "yaml",
    }
)
# Typer's rich help renders through rich.markdown, so help (only help) imports markdown_it;
# and typer coerces a command's parameters through pydantic, so a command imports it.
HELP_ONLY = frozenset({"markdown_it"})
TYPER_COMMAND = frozenset({"pydantic"})

COMMANDS = (
    "up",
    "status",
    "down",
    "logs",
    "run",
    "toxiproxy",
    "explore",
    "chaos",
    "load",
    "fuzz",
    "contracts",
    "containers",
)

RUN_CLI = """
import json, sys
sys.argv = ["harness", *sys.argv[1:]]
from harness.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules_after(*args: str, code: str = RUN_CLI) -> tuple[str, int, set[str]]:
    """stdout, exit code and the imported modules of `harness ARGS` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, report["code"], set(report["modules"])


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_cli_imports_no_stage_library() -> None:
    code = "import json, sys\nimport harness.cli\n"
    code += "print(json.dumps({'code': 0, 'modules': sorted(sys.modules)}), file=sys.stderr)"
    _, _, modules = _modules_after(code=code)
    assert _top_level(modules) & (STAGE_LIBRARIES | HELP_ONLY) == set()
    # nor an area's own machinery: only command modules and the small ones they name
    assert "harness.chaos.suite" not in modules
    assert "harness.runtime.start" not in modules
    assert "harness.topology.model" not in modules


def test_help_lists_every_command_without_importing_stage_libraries() -> None:
    out, code, modules = _modules_after("--help")
    assert code == 0
    listed = re.findall(r"^│ (\S+) ", out, flags=re.MULTILINE)
    assert [name for name in listed if not name.startswith("-")] == list(COMMANDS)
    assert _top_level(modules) & STAGE_LIBRARIES == set()


@pytest.mark.parametrize(
    "command",
    [
        ("up",),
        ("run",),
        ("explore",),
        ("toxiproxy",),
        ("chaos", "run"),
        ("load", "run"),
        ("fuzz", "run"),
        ("contracts", "verify"),
        ("containers", "build"),
    ],
    ids=" ".join,
)
def test_a_commands_help_imports_no_stage_library(command: tuple[str, ...]) -> None:
    out, code, modules = _modules_after(*command, "--help")
    assert code == 0
    assert "Usage: harness " + " ".join(command) in out
    assert _top_level(modules) & (STAGE_LIBRARIES - TYPER_COMMAND) == set()
    assert "harness.topology.model" not in modules


@pytest.mark.parametrize(
    "package",
    [
        "harness.chaos",
        "harness.contracts",
        "harness.explore",
        "harness.faultproxy",
        "harness.fuzz",
        "harness.load",
        "harness.pipeline",
        "harness.runtime",
        "harness.runtime.backends",
        "harness.topology",
    ],
)
def test_every_name_a_package_exports_is_there_on_first_use(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'not_exported'"):
        _ = module.not_exported


def test_a_sub_command_imports_no_other_areas_commands() -> None:
    _, code, modules = _modules_after("chaos", "run", "--help")
    assert code == 0
    area_commands = {module for _, module in SUBCOMMANDS}
    assert modules & area_commands == {"harness.chaos.cli"}


class _WithAnAreaNotLandedYet(HarnessGroup):
    lazy_commands = (
        ("later", "harness.not_landed_yet.cli"),
        ("chaos", "harness.chaos.cli"),
    )


def test_an_area_whose_module_is_not_there_is_left_out_and_the_rest_works() -> None:
    app = typer.Typer(name="harness", cls=_WithAnAreaNotLandedYet, add_completion=False)

    @app.callback()
    def _harness() -> None:
        """A harness."""

    @app.command()
    def up() -> None:
        """Bring it up."""

    listed = CliRunner().invoke(app, ["--help"], terminal_width=120)
    assert listed.exit_code == 0, listed.output
    assert re.findall(r"^│ (\w+) ", listed.output, flags=re.MULTILINE) == ["up", "chaos"]
    unknown = CliRunner().invoke(app, ["later"])
    assert unknown.exit_code == 2
    assert "No such command 'later'" in unknown.output
    typo = CliRunner().invoke(app, ["chaoss"])
    assert "Did you mean 'chaos'?" in typo.output
