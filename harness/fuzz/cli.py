"""`harness fuzz run`: schemathesis over every service of a topology that has an OpenAPI
document.

    harness fuzz run [-t FILE] [--seed N] [--max-examples N] [--out DIR] [--junit-xml PATH]
                     [--service NAME]... [--config schemathesis.toml] [--prepare FILE.py:FUNC]
                     [--openapi-path SERVICE=/path]... [--phases LIST] [--no-faults] [-q|-v]

Exit codes: 0 no failure; 1 a check failed or a pass could not complete; 2 bad input
(topology, config, options), nothing was fuzzed; 3 the system did not start, or the
prepare step failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.command_options import (
    QuietOption,
    TopologyOption,
    VerboseOption,
    command_group,
    progress_console,
    resolve_topology,
)
from harness.console import make_console
from harness.fuzz.defaults import ALL_PHASES, DEFAULT_MAX_EXAMPLES, DEFAULT_SEED

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_RUN_ERROR", "app"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_RUN_ERROR = 3

app = command_group(
    name="fuzz",
    help="Fuzz every service's OpenAPI document with schemathesis (seeded, fault-aware).",
)


def _pairs(values: list[str], *, option: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():  # an empty value is one: "" (e.g. no document)
            raise typer.BadParameter(f"expected {what}, got {value!r}", param_hint=option)
        pairs[key.strip()] = rest.strip()
    return pairs


def _phases(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ALL_PHASES
    phases = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [phase for phase in phases if phase not in ALL_PHASES]
    if unknown or not phases:
        raise typer.BadParameter(
            f"expected a comma-separated subset of {','.join(ALL_PHASES)}, got {value!r}",
            param_hint="--phases",
        )
    return phases


@app.command("run")
def fuzz(
    topology: TopologyOption = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help=f"Seed of every pass: the same seed sends the same requests to a system that "
            f"answers the same (default {DEFAULT_SEED}).",
            show_default=False,
        ),
    ] = None,
    max_examples: Annotated[
        int, typer.Option(min=1, help="generated examples per operation (fuzzing, stateful)")
    ] = DEFAULT_MAX_EXAMPLES,
    junit_xml: Annotated[
        Path | None,
        typer.Option(
            "--junit-xml",
            metavar="PATH",
            help="JUnit XML, a test case per operation and check (default: <out>/junit.xml).",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    service: Annotated[
        list[str] | None, typer.Option(help="fuzz only this service (repeatable)")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="schemathesis.toml with per-API settings (auth, expected statuses)"),
    ] = None,
    prepare: Annotated[
        str | None,
        typer.Option(help="puts test data in place first: file.py:function or module:function"),
    ] = None,
    openapi_path: Annotated[
        list[str] | None,
        typer.Option(
            help="SERVICE=/path of its OpenAPI document, over its `openapi` convention; "
            "SERVICE= for none, not fuzzed (repeatable)"
        ),
    ] = None,
    phases: Annotated[
        str | None,
        typer.Option(help=f"phases of the ordinary pass (default {','.join(ALL_PHASES)})"),
    ] = None,
    faults: Annotated[
        bool, typer.Option("--faults/--no-faults", help="a pass per edge, that edge partitioned")
    ] = True,
    settle: Annotated[
        float,
        typer.Option(min=0, help="seconds to wait after healing a partition (breakers close)"),
    ] = 0.0,
    env: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE added to every service's environment (repeatable)"),
    ] = None,
    fault_max_examples: Annotated[
        int | None, typer.Option(min=1, help="budget of a fault pass (default: max-examples/3)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="where report.json and junit.xml go (runs/fuzz/<time>)")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="runtime backend: process, attach or containers")
    ] = "process",
    parallel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="services fuzzed at once, each on a system of its own (default: the "
            "topology's \\[fuzz] parallel, else 1)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the system, fuzz each service (then each again with each dependency cut),
    print the figures and every failure with the command that reproduces it."""
    from harness.fuzz.options import FuzzOptions
    from harness.fuzz.report import print_summary
    from harness.fuzz.runner import FuzzRunError, run_fuzz
    from harness.runtime import HarnessRuntimeError
    from harness.topology import TopologyError

    console = progress_console(quiet=quiet, verbose=verbose)
    errors = make_console(stderr=True)
    topology_path = resolve_topology(topology, command="harness fuzz run")
    try:
        options = FuzzOptions(
            seed=DEFAULT_SEED if seed is None else seed,
            max_examples=max_examples,
            services=service or None,
            phases=_phases(phases),
            fault_passes=faults,
            fault_max_examples=fault_max_examples,
            settle_seconds=settle,
            parallel=parallel,
            env=_pairs(env or [], option="--env", what="KEY=VALUE"),
            openapi_paths=_pairs(openapi_path or [], option="--openapi-path", what="SERVICE=/path"),
            schemathesis_config=config,
            prepare=prepare,
            out_dir=out,
            junit_path=junit_xml,
        )
        result = run_fuzz(topology_path, options=options, backend=backend, console=console)
    except typer.BadParameter:
        raise
    except (FuzzRunError, TopologyError, ValueError) as exc:
        errors.print(f"error: {exc}", style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except HarnessRuntimeError as exc:
        errors.print(f"the system did not start: {exc}", style="red", highlight=False, markup=False)
        raise typer.Exit(EXIT_RUN_ERROR) from None
    if quiet:
        verdict = "PASS" if result.passed else "FAIL"
        errors.print(
            f"{verdict}: report {result.report_path}, JUnit XML {result.junit_path}",
            highlight=False,
            markup=False,
        )
    else:
        print_summary(result, console=make_console())
    raise typer.Exit(0 if result.passed else EXIT_FAILED)
