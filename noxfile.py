"""The single entry point for lint, typecheck, tests and every harness stage.

Python versions come from pyproject.toml's classifiers; uv is the venv backend, so a
session installs in seconds once the wheel cache is warm.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON_VERSIONS = nox.project.python_versions(PYPROJECT)
PYTHON = PYTHON_VERSIONS[0]

# Everything a session needs: the harness with its pipeline extras, and the reference system.
INSTALL = ("-e", ".[pipeline,dev,interop]", "-e", "target-system")
# pact-python's verifier sends telemetry unless told not to (../shared/library-facts.md).
# PYTHONDONTWRITEBYTECODE is unset for what the sessions run: a run starts hundreds of Python
# processes (services, the fork server, the CLI, pytest workers) and, where the variable is
# set (CI machines here set it), each one compiled every module it imports again: 3.1 s of
# CPU for `harness --help` instead of 0.9 s, and a third of the tests session's CPU.
RUN_ENV: dict[str, str | None] = {"PACT_DO_NOT_TRACK": "true", "PYTHONDONTWRITEBYTECODE": None}
# The reference shop, named explicitly: the harness itself knows no default system.
SHOP = ("-t", "target-system/system.toml")


# One environment for every session that runs the harness (all but lint): `nox -s tests run`
# and CI's sessions then install once, and what they import is compiled once. With an
# environment per session, each session's first imports compiled the same modules again
# (6-10 CPU-s each, three times over where pytest's workers start at once), and each install
# took its own seconds.
HARNESS_ENV = Path(".nox", "harness").resolve()
harness_session = functools.partial(nox.session, venv_backend="none")


def _install(session: nox.Session) -> None:
    """Bring the shared environment up to date (under a lock: CI runs sessions at once) and
    put it first on PATH for what the session runs.

    Not UV_COMPILE_BYTECODE: compiling all of site-packages costs 18 CPU-s; what the sessions
    import is compiled on first import and kept (RUN_ENV)."""
    python = HARNESS_ENV / "bin" / "python"
    HARNESS_ENV.parent.mkdir(exist_ok=True)
    with open(HARNESS_ENV.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which("uv"):
            if not python.exists():
                session.run("uv", "venv", "--quiet", "--python", PYTHON, str(HARNESS_ENV))
            session.run("uv", "pip", "install", "--quiet", "--python", str(python), *INSTALL)
        else:
            if not python.exists():
                session.run(sys.executable, "-m", "venv", str(HARNESS_ENV))
            session.run(str(python), "-m", "pip", "install", "--quiet", *INSTALL)
    paths = os.environ["PATH"].split(os.pathsep)
    if paths[0] != str(python.parent):
        os.environ["PATH"] = os.pathsep.join([str(python.parent), *paths])
    os.environ["VIRTUAL_ENV"] = str(HARNESS_ENV)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff==0.17.5")  # the version the tree is formatted with
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@harness_session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on harness/ and target-system/shop."""
    _install(session)
    session.run("mypy", "harness", env=RUN_ENV)
    session.run("mypy", "--config-file", "target-system/pyproject.toml", "target-system/shop")


@harness_session
def tests(session: nox.Session) -> None:
    """The test suite: unit tests plus real processes on loopback (no Docker needed).

    Deselected by default: `containers` (nox -s containers) and `experiment`, the chaos
    experiments passing end to end, which `nox -s chaos` and the main job (`nox -s run`) run;
    the tests that prove the experiments' assertions bite stay in. Everything:
    `nox -s tests -- -m "not containers"`.
    """
    _install(session)
    # Most tests wait on real processes (the suite keeps a 2-core machine at load 1 when
    # run serially): four workers, each taking whole files (a module's system starts once),
    # the longest first (tests/conftest.py: with three, the cores stood half idle while the
    # long modules, which mostly wait, ran side by side).
    args = session.posargs or [
        "-m",
        "not containers and not experiment and not kill",
        "-p",
        "no:cacheprovider",
        "-n",
        "4",
        "--dist",
        "loadfile",
    ]
    session.run("pytest", *args, env=RUN_ENV)


@harness_session
def kill(session: nox.Session) -> None:
    """The whole kill-scenario matrix: signal x moment, each followed by `harness down`,
    counting the processes and listening ports the run left (all zero); about 10 minutes."""
    _install(session)
    session.run("python", "tests/harness/test_kill_scenarios.py", env=RUN_ENV)


@harness_session
def run(session: nox.Session) -> None:
    """The main job: `harness run` on the reference system (contracts, fuzz, chaos, load),
    with JUnit XML in runs/junit.xml.

    Extra arguments go to `harness run`, e.g. `nox -s run -- --only chaos --seed 7`.
    """
    _install(session)
    args = session.posargs or ["--junit-xml", "runs/junit.xml"]
    session.run("harness", "run", *SHOP, *args, env=RUN_ENV)


@harness_session
def examples(session: nox.Session) -> None:
    """The Node.js example system (examples/node-shop) end to end: `npm ci`, its unit tests
    (`npm test`), its consumer pacts and resilience tests, then `harness run` on its
    topology; report in runs/examples/node-shop. Needs Node.js >= 18 and npm (Debian:
    apt-get install nodejs npm).

    Extra arguments go to `harness run`, e.g. `nox -s examples -- --only chaos --seed 7`.
    """
    _install(session)
    example = "examples/node-shop"
    with session.chdir(example):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "test", external=True)  # node --test: the resilient client
    tests = (f"{example}/contracts", f"{example}/tests")
    session.run("pytest", *tests, "-p", "no:cacheprovider", env=RUN_ENV)
    session.run(
        "harness", "run", "-t", f"{example}/system.toml", "--out", f"runs/{example}",
        *session.posargs, env=RUN_ENV,
    )  # fmt: skip


@nox.session(venv_backend="none")
def ci(session: nox.Session) -> None:
    """What CI runs: lint, typecheck, tests, contracts, the main job, the containers backend."""
    for name in ("lint", "typecheck", "tests", "contracts", "run", "containers"):
        session.notify(name)


if os.environ.get("CI"):
    nox.options.error_on_missing_interpreters = True


@harness_session
def chaos(session: nox.Session) -> None:
    """Chaos experiments (chaos/*.yaml) against the reference shop; journals in runs/chaos."""
    _install(session)
    args = session.posargs or ["chaos/", "--out", "runs/chaos", "--no-live"]
    session.run("python", "-m", "harness.chaos", "run", *SHOP, *args, env=RUN_ENV)


@harness_session
def load(session: nox.Session) -> None:
    """The smoke load profile against the reference shop (SLO gate); report in runs/load/smoke."""
    _install(session)
    args = session.posargs or ["load/profiles/smoke.yaml", "--out", "runs/load/smoke"]
    session.run("python", "-m", "harness.load", "run", *SHOP, *args, env=RUN_ENV)


@harness_session
def bench_faultproxy(session: nox.Session) -> None:
    """Fault proxy vs direct (wrk + nginx-light): req/s, p50/p99, and a 100 ms latency toxic."""
    _install(session)
    session.run("python", "bench/faultproxy_bench.py", *session.posargs)


@harness_session
def contracts(session: nox.Session) -> None:
    """Consumer Pact tests (they write contracts/pacts), then every provider of the reference
    shop, started for real in test mode, verified against them; prints the edges covered.

    With PACT_BROKER_URL set: publish the pacts (git sha and branch), verify from the broker
    (results published), then can-i-deploy for every service.
    """
    _install(session)
    session.run("pytest", "contracts/consumers", "-p", "no:cacheprovider", env=RUN_ENV)
    contracts_cli = ("python", "-m", "harness.contracts")
    broker = bool(os.environ.get("PACT_BROKER_URL"))
    if broker:
        session.run(*contracts_cli, "publish", "--pacts", "contracts/pacts", env=RUN_ENV)
    session.run(
        *contracts_cli,
        "verify",
        *SHOP,
        "--pacts",
        "contracts/pacts",
        "--require-all-edges",
        "--out",
        "runs/contracts",
        env=RUN_ENV,
    )
    if broker:
        for service in ("gateway", "orders", "notifications", "users", "inventory", "payments"):
            session.run(*contracts_cli, "can-i-deploy", "--pacticipant", service, env=RUN_ENV)


@harness_session
def fuzz(session: nox.Session) -> None:
    """schemathesis over every service of the reference shop (seeded; stateful through links;
    a pass per edge with that edge partitioned); prints the figures, report in runs/fuzz/shop.

    More examples or another seed: `nox -s fuzz -- --max-examples 100 --seed 7`.
    """
    _install(session)
    session.run(
        "python",
        "-m",
        "harness.fuzz",
        "run",
        *SHOP,  # its [fuzz] table and schemathesis.toml set the rest
        "--out",
        "runs/fuzz/shop",
        *session.posargs,
        env=RUN_ENV,
    )


@harness_session
def containers(session: nox.Session) -> None:
    """The containers backend from nothing: Podman serving the Docker API without a registry
    (scripts/containers/setup.sh), the shop's images in one go, the backend's tests and
    provider verification against the containerised shop, and beside them chaos experiments
    1 and 5 (each on a containerised shop of its own); teardown (no container, network or
    conmon left) always runs. Ends with the time of each step.
    """
    import subprocess
    import time

    _install(session)
    durations: dict[str, float] = {}
    session_started = time.perf_counter()

    def step(name: str, *args: str, external: bool = False) -> None:
        started = time.perf_counter()
        try:
            session.run(*args, env=RUN_ENV, external=external)
        finally:
            durations[name] = time.perf_counter() - started

    chaos_log = Path("runs/containers/chaos.log")
    chaos_name = "chaos experiments 1 and 5 (beside)"
    try:
        step("setup (engine, base image)", "bash", "scripts/containers/setup.sh", external=True)
        step("image builds", "python", "-m", "harness.runtime.backends.containers", "build", *SHOP)
        # The experiments mostly wait out their faults: they run beside the tests and the
        # verification, which use the cores (one after the other, the session ended on them
        # alone at under one busy core); their output follows when they end.
        chaos_log.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
        env.update({k: v for k, v in RUN_ENV.items() if v is not None})
        started = time.perf_counter()
        with chaos_log.open("wb") as log:
            chaos = subprocess.Popen(
                [
                    "python", "-m", "harness.chaos", "run",
                    "chaos/01_payments_latency.yaml", "chaos/05_kill_orders_mid_saga.yaml",
                    *SHOP, "--backend", "containers", "--out", "runs/containers/chaos",
                    "--no-live", "--parallel", "2",
                ],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
            try:
                step("tests/containers", "pytest", "tests/containers", "-p", "no:cacheprovider")
                step("contract verification", "python", "scripts/containers/verify_contracts.py")
            except BaseException:
                chaos.terminate()  # a step failed: the experiments roll back and end
                raise
            finally:
                code = chaos.wait()
                durations[chaos_name] = time.perf_counter() - started
                print(chaos_log.read_text(errors="replace"), flush=True)
        if code != 0:
            session.error(f"chaos experiments 1 and 5 failed (exit {code}; output above)")
    finally:
        step("teardown", "bash", "scripts/containers/teardown.sh", external=True)
        for name, seconds in durations.items():
            session.log(f"containers: {name:<36} {seconds:6.1f} s")
        total = time.perf_counter() - session_started
        session.log(f"containers: {'total (without the install)':<36} {total:6.1f} s")


@harness_session
def mutants(session: nox.Session) -> None:
    """Resilience mutants of the shop (scripts/mutants.py), each run through the pipeline on a
    copy of the tree: killed/survived per mutant, the stage and check that caught it, the kill
    rate (runs/mutants/summary.md). Long: not part of CI. `-- --only NAME,...` for a few."""
    _install(session)
    session.run("python", "scripts/mutants.py", *session.posargs, env=RUN_ENV)
