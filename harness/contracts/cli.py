"""`harness contracts ...`: verify providers, publish pacts, ask can-i-deploy, record
deployments and releases.

Exit codes: 0 passed (or deployable, or recorded); 1 a verification failed, an edge lacks a
pact when required, or the broker says no (or still does not know); 2 bad input (topology,
pacts, options, no broker configured); 3 the run itself broke (the system did not start, the
broker could not be reached or refused the request).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.command_options import (
    JUnitOption,
    QuietOption,
    TopologyOption,
    VerboseOption,
    command_group,
    progress_console,
    resolve_topology,
)
from harness.console import make_console
from harness.contracts.defaults import DEFAULT_PACT_DIR

if TYPE_CHECKING:
    from harness.contracts.broker import BrokerConfig, EnvironmentRecord, VersionInfo
    from harness.topology import EnvValue

__all__ = ["app"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_RUN_ERROR = 3

app = command_group(
    name="contracts",
    help="Consumer-driven contracts (Pact): verify providers, publish pacts, can-i-deploy.",
)
err = make_console(stderr=True, highlight=False)


class Backend(StrEnum):
    process = "process"
    attach = "attach"


def _fail(message: str, code: int) -> typer.Exit:
    err.print("[bold red]error:[/] ", end="")
    err.print(message, markup=False)
    return typer.Exit(code)


def _env(pairs: list[str]) -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--env {pair!r}: expected KEY=VALUE", EXIT_BAD_INPUT)
        env[key] = value
    return env


def _broker(url: str | None) -> BrokerConfig | None:
    from harness.contracts.broker import BrokerConfig

    config = BrokerConfig.from_env()
    if url:
        config = BrokerConfig(
            url=url.rstrip("/"),
            token=config.token if config else None,
            username=config.username if config else None,
            password=config.password if config else None,
        )
    return config


def _version(number: str | None, branch: str | None) -> VersionInfo:
    from harness.contracts.broker import BrokerError, VersionInfo, version_from_git

    if number is not None:
        return VersionInfo(number=number, branch=branch)
    try:
        found = version_from_git()
    except BrokerError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    return VersionInfo(number=found.number, branch=branch or found.branch)


PactsOption = Annotated[Path, typer.Option("--pacts", help="Directory of pact files.")]
BrokerUrlOption = Annotated[
    str | None,
    typer.Option(
        "--broker-url",
        envvar="PACT_BROKER_URL",
        help="Pact Broker (token/credentials from PACT_BROKER_TOKEN or _USERNAME/_PASSWORD).",
        show_default=False,
    ),
]


def _pact_dir(option: Path | None, topology: Path, *, broker: bool) -> Path | None:
    """--pacts, else the topology's [pipeline] pacts, else pacts/ beside it (as `harness run`
    finds them); None when the broker's pacts are verified and there are none here."""
    from harness.pipeline import PipelineOptions
    from harness.pipeline.inputs import StageInputs
    from harness.topology import TopologyError, load_topology

    if option is not None:  # the contracts layer says what is wrong with it, if anything
        return option if not broker or option.is_dir() else None
    try:
        inputs = StageInputs.resolve(
            PipelineOptions(topology=topology, only=["contracts"]),
            load_topology(topology),
        )
    except (TopologyError, ValueError) as exc:
        if broker:
            return None
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    reason = inputs.skip.get("contracts")
    if reason is not None:
        if broker:
            return None
        raise _fail(f"nothing to verify: {reason}; pass --pacts DIR", EXIT_BAD_INPUT)
    return inputs.pact_dir


@app.command("verify")
def verify_command(
    topology: TopologyOption = None,
    pacts: Annotated[
        Path | None,
        typer.Option(
            "--pacts",
            help="Directory of pact files (default: the topology's \\[pipeline] pacts, else "
            "pacts/ beside it).",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        Backend, typer.Option(help="process: start the services; attach: use their `url`.")
    ] = Backend.process,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Verify only this provider (repeat).")
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            help="KEY=VALUE for every started service (repeat), on top of each service's "
            "test_env convention.",
        ),
    ] = None,
    states_path: Annotated[
        str | None,
        typer.Option(
            help="Every provider's state-change route ('' for none); default: each "
            "provider's provider_states convention.",
            show_default=False,
        ),
    ] = None,
    messages_path: Annotated[
        str | None,
        typer.Option(
            help="Every provider's message route ('' for none); default: each provider's "
            "messages convention.",
            show_default=False,
        ),
    ] = None,
    require_all_edges: Annotated[
        bool, typer.Option(help="Fail when an edge of the topology has no pact.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the JSON report (contracts.json) here.", show_default=False),
    ] = None,
    junit_xml: JUnitOption = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Accepted so one command line fits every stage; verification draws nothing "
            "at random, so it has no effect.",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    broker_url: BrokerUrlOption = None,
    use_broker: Annotated[
        bool | None,
        typer.Option(
            "--broker/--no-broker",
            help="Verify the broker's pacts and publish results (default: when a broker is set).",
            show_default=False,
        ),
    ] = None,
    provider_version: Annotated[
        str | None, typer.Option(help="Provider version for the broker (default: git sha).")
    ] = None,
    provider_branch: Annotated[
        str | None, typer.Option(help="Provider branch for the broker (default: git branch).")
    ] = None,
) -> None:
    """Start the topology, verify every provider some pact names, print each interaction."""
    from harness.contracts.broker import BrokerVerification
    from harness.contracts.pactfiles import PactFileError
    from harness.contracts.render import print_result
    from harness.contracts.run import run_contracts
    from harness.contracts.verify import VerifyOptions
    from harness.pipeline.junit import write_junit
    from harness.pipeline.stages import contracts_stage
    from harness.runtime.errors import HarnessRuntimeError
    from harness.topology import TopologyError

    console = make_console(quiet=quiet)
    progress = progress_console(quiet=quiet, verbose=verbose)
    topology_path = resolve_topology(topology, command="harness contracts verify")
    broker_config = _broker(broker_url)
    if use_broker and broker_config is None:
        raise _fail("--broker needs PACT_BROKER_URL or --broker-url", EXIT_BAD_INPUT)
    broker = None
    if broker_config is not None and use_broker is not False:
        broker = BrokerVerification(
            broker=broker_config, provider_version=_version(provider_version, provider_branch)
        )
    options = VerifyOptions(states_path=states_path, messages_path=messages_path)
    pact_dir = _pact_dir(pacts, topology_path, broker=broker is not None)
    try:
        result = run_contracts(
            topology=topology_path,
            pact_dir=pact_dir,
            backend=backend.value,
            env=_env(env or []),
            providers=provider or None,
            broker=broker,
            options=options,
            require_all_edges=require_all_edges,
            out_dir=out,
            progress=lambda line: progress.print(line, markup=False, highlight=False),
        )
    except (TopologyError, PactFileError, ValueError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        err.print("interrupted: the system was stopped")
        raise typer.Exit(130) from None
    except HarnessRuntimeError as exc:  # the system did not start
        raise _fail(f"{type(exc).__name__}: {exc}", EXIT_RUN_ERROR) from None
    print_result(result, console=console)
    if junit_xml is not None:
        write_junit([contracts_stage(result)], junit_xml, name="harness contracts")
        err.print(f"JUnit XML: {junit_xml}", markup=False)
    if quiet:
        verdict = "PASS" if result.passed else "FAIL"
        err.print(f"{verdict}: report {result.report_path or '(none: no --out)'}", markup=False)
    raise typer.Exit(0 if result.passed else EXIT_FAILED)


@app.command("publish")
def publish_command(
    pacts: PactsOption = DEFAULT_PACT_DIR,
    consumer_version: Annotated[
        str | None, typer.Option(help="Consumer version (default: the git commit sha).")
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Consumer branch (default: the git branch).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeat).")] = None,
    broker_url: BrokerUrlOption = None,
) -> None:
    """Publish the pact files to the broker with the consumer version and branch."""
    from harness.contracts.broker import BrokerError, publish_pacts
    from harness.contracts.pactfiles import PactFileError, load_pacts

    broker = _configured_broker(broker_url)
    try:
        files = load_pacts(pacts)
    except PactFileError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    version = _version(consumer_version, branch)
    try:
        receipts = publish_pacts(files, broker=broker, version=version, tags=tag or ())
    except BrokerError as exc:
        raise _fail(str(exc), EXIT_RUN_ERROR) from None
    console = make_console()
    for receipt in receipts:
        console.print(
            f"published {', '.join(receipt.pacts)} for {receipt.consumer} "
            f"{receipt.version} (branch {receipt.branch or '-'})",
            markup=False,
        )
        for notice in receipt.notices:
            console.print(f"  {notice}", markup=False)


def _configured_broker(url: str | None) -> BrokerConfig:
    broker = _broker(url)
    if broker is None:
        raise _fail("no broker: set PACT_BROKER_URL or pass --broker-url", EXIT_BAD_INPUT)
    return broker


PacticipantOption = Annotated[
    str, typer.Option("--pacticipant", "-a", help="The application (a service name).")
]
VersionOption = Annotated[
    str | None,
    typer.Option(
        "--version", "-e", help="Its version (default: the git commit sha).", show_default=False
    ),
]


@app.command("can-i-deploy")
def can_i_deploy_command(
    pacticipant: PacticipantOption,
    version: VersionOption = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--to-environment",
            "--environment",
            help="Target environment, checked against what is deployed or released there "
            "(default: against the latest version of everything).",
            show_default=False,
        ),
    ] = None,
    retry_while_unknown: Annotated[
        int,
        typer.Option(
            min=0,
            help="Ask again this many times while the answer is unknown (a provider is "
            "still verifying).",
        ),
    ] = 0,
    retry_interval: Annotated[
        float, typer.Option(min=0, help="Seconds between those questions.")
    ] = 10.0,
    broker_url: BrokerUrlOption = None,
) -> None:
    """Ask the broker whether this version may be deployed; exit 0 only when it may
    (1 when it may not or the broker still does not know)."""
    from rich.markup import escape

    from harness.contracts.broker import BrokerError, can_i_deploy

    broker = _configured_broker(broker_url)
    number = version or _version(None, None).number
    try:
        verdict = can_i_deploy(
            broker=broker,
            pacticipant=pacticipant,
            version=number,
            environment=environment,
            retry_while_unknown=retry_while_unknown,
            retry_interval=retry_interval,
            on_unknown=lambda answer: err.print(
                f"unknown yet ({answer.reason}); asking again in {retry_interval:g}s "
                f"({answer.asked} of {retry_while_unknown + 1})",
                markup=False,
            ),
        )
    except BrokerError as exc:
        raise _fail(str(exc), EXIT_RUN_ERROR) from None
    answer = {True: "[bold green]yes[/]", False: "[bold red]no[/]", None: "[yellow]unknown[/]"}
    target = f" to {escape(environment)}" if environment else ""
    asked = f" (asked {verdict.asked} times)" if verdict.asked > 1 else ""
    make_console().print(
        f"can {escape(pacticipant)} {escape(number)} be deployed{target}? "
        f"{answer[None if verdict.unknown else verdict.deployable]}: "
        f"{escape(verdict.reason)}{asked}"
    )
    raise typer.Exit(0 if verdict.deployable and not verdict.unknown else EXIT_FAILED)


EnvironmentOption = Annotated[
    str, typer.Option("--environment", help="The environment's name in the broker.")
]


def _print_record(record: EnvironmentRecord) -> None:
    instance = f" (instance {record.application_instance})" if record.application_instance else ""
    make_console().print(
        f"recorded {record.kind} of {record.pacticipant} {record.version} to "
        f"{record.environment}{instance}",
        markup=False,
    )


@app.command("record-deployment")
def record_deployment_command(
    pacticipant: PacticipantOption,
    environment: EnvironmentOption,
    version: VersionOption = None,
    application_instance: Annotated[
        str | None,
        typer.Option(
            help="Which instance was deployed, when several of the application run in the "
            "environment (replaces only that instance's previous version).",
            show_default=False,
        ),
    ] = None,
    broker_url: BrokerUrlOption = None,
) -> None:
    """Record that this version is now deployed to an environment (it replaces the one
    deployed there before); run it after the deployment succeeded."""
    from harness.contracts.broker import BrokerError, record_deployment

    broker = _configured_broker(broker_url)
    number = version or _version(None, None).number
    try:
        record = record_deployment(
            broker=broker,
            pacticipant=pacticipant,
            version=number,
            environment=environment,
            application_instance=application_instance,
        )
    except BrokerError as exc:
        raise _fail(str(exc), EXIT_RUN_ERROR) from None
    _print_record(record)


@app.command("record-release")
def record_release_command(
    pacticipant: PacticipantOption,
    environment: EnvironmentOption,
    version: VersionOption = None,
    broker_url: BrokerUrlOption = None,
) -> None:
    """Record that this version is released to an environment (earlier releases stay
    supported: mobile apps, libraries)."""
    from harness.contracts.broker import BrokerError, record_release

    broker = _configured_broker(broker_url)
    number = version or _version(None, None).number
    try:
        record = record_release(
            broker=broker, pacticipant=pacticipant, version=number, environment=environment
        )
    except BrokerError as exc:
        raise _fail(str(exc), EXIT_RUN_ERROR) from None
    _print_record(record)
