"""`run_contracts`: bring a topology up (or use a running one), verify every provider that
has pacts, and say which edges the pacts cover. One call for the CLI and for `harness run`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.contracts.coverage import EdgeCoverage, edge_coverage, pacts_without_edge
from harness.contracts.defaults import DEFAULT_PACT_DIR
from harness.contracts.pactfiles import PactFile, load_pacts
from harness.contracts.results import ContractsResult, ProviderResult
from harness.contracts.verify import VerifyOptions, verify_provider
from harness.topology import EnvValue, Topology, load_topology

if TYPE_CHECKING:
    from harness.contracts.broker import BrokerVerification
    from harness.runtime import RunningSystem

__all__ = ["DEFAULT_PACT_DIR", "REPORT_NAME", "in_test_mode", "options_for", "run_contracts"]

REPORT_NAME = "contracts.json"

Progress = Callable[[str], None]


def run_contracts(
    *,
    topology: Topology | Path,
    pact_dir: Path | None = DEFAULT_PACT_DIR,
    system: RunningSystem | None = None,
    backend: str = "process",
    env: Mapping[str, EnvValue] | None = None,
    providers: Sequence[str] | None = None,
    broker: BrokerVerification | None = None,
    options: VerifyOptions | None = None,
    require_all_edges: bool = False,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> ContractsResult:
    """Verify the providers of `topology` against the pacts in `pact_dir` (or the broker).

    Keyword-only:
    - `pact_dir` (contracts/pacts): local pact files; with `broker`, used for coverage only
      (None: no local pacts).
    - `system`: an already running system to verify; default: start `topology` with the
      `backend` ("process", or "attach" for services already at their `url`), each service
      in its test mode (its `test_env` convention) plus `env` for every service, and stop
      it afterwards.
    - `providers`: only these (default: every service of the topology some pact names).
    - `broker`: verify the broker's pacts and publish the results (see `BrokerVerification`).
    - `options`: how providers are verified; its unset `states_path` / `messages_path` come
      from each provider's `provider_states` / `messages` conventions.
    - `require_all_edges` (False): fail when an edge of the topology has no pact.
    - `out_dir`: where the JSON report (`contracts.json`) goes; None writes none.
    - `progress`: called with a line of text as each step starts.

    Raises `PactFileError` / `TopologyError` for unusable input, before anything starts.
    """
    say = progress or (lambda _line: None)
    spec = topology if isinstance(topology, Topology) else load_topology(topology)
    pacts = load_pacts(pact_dir) if pact_dir is not None else []
    targets, notes = _providers(spec, pacts, only=providers, broker=broker is not None)
    started = time.perf_counter()
    with _system(in_test_mode(spec, env), system, backend=backend, say=say) as running:
        up = time.perf_counter()
        results = []
        for name in targets:
            mine = [p for p in pacts if p.provider == name] if broker is None else []
            say(f"verifying {name} at {running.url(name)} ({_source(mine, broker)})")
            results.append(
                verify_provider(
                    name,
                    url=running.url(name),
                    pacts=mine,
                    broker=broker,
                    options=options_for(spec, name, options),
                )
            )
    coverage = edge_coverage(spec, pacts)
    result = ContractsResult(
        passed=all(r.passed for r in results)
        and not (require_all_edges and any(not row.covered for row in coverage)),
        providers=results,
        coverage=coverage,
        other_pacts=[_describe(p) for p in pacts_without_edge(spec, pacts)],
        notes=notes,
        figures=_figures(
            results, coverage, startup=up - started, total=time.perf_counter() - started
        ),
    )
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / REPORT_NAME
        result.report_path = path
        path.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return result


def in_test_mode(topology: Topology, env: Mapping[str, EnvValue] | None = None) -> Topology:
    """`topology` with every service's `test_env` convention (the switch of its test-only
    routes, e.g. provider states) in its env, and `env` for every service on top."""
    with_test_env = topology.with_service_env(
        {
            name: topology.conventions_for(name).test_env
            for name in topology.services
            if topology.conventions_for(name).test_env
        }
    )
    return with_test_env.with_env(env or {})


def options_for(
    topology: Topology, provider: str, options: VerifyOptions | None = None
) -> VerifyOptions:
    """`options` with what it leaves unset taken from `provider`'s conventions."""
    options = options or VerifyOptions()
    conventions = topology.conventions_for(provider)
    return replace(
        options,
        states_path=conventions.provider_states
        if options.states_path is None
        else options.states_path,
        messages_path=conventions.messages
        if options.messages_path is None
        else options.messages_path,
    )


def _providers(
    topology: Topology, pacts: Sequence[PactFile], *, only: Sequence[str] | None, broker: bool
) -> tuple[list[str], list[str]]:
    """(providers to verify, notes on pacts that cannot be verified here)."""
    notes = []
    named = {p.provider for p in pacts}
    for pact in pacts:
        if pact.provider not in topology.services:
            notes.append(f"{pact.path.name}: provider {pact.provider!r} is not in the topology")
    if broker:
        named |= {edge.target for edge in topology.edges}
    wanted = sorted(n for n in named if n in topology.services)
    if only is not None:
        unknown = sorted(set(only) - set(topology.services))
        if unknown:
            raise ValueError(
                f"unknown provider(s) {', '.join(unknown)}; services are: "
                f"{', '.join(sorted(topology.services))}"
            )
        wanted = [n for n in wanted if n in only]
    return wanted, notes


def _describe(pact: PactFile) -> str:
    if pact.has_messages and not pact.has_http:
        return f"{pact.path.name} (messages: {pact.provider} => {pact.consumer})"
    return f"{pact.path.name} ({pact.consumer} -> {pact.provider}: not an edge of the topology)"


def _source(pacts: Sequence[PactFile], broker: BrokerVerification | None) -> str:
    if broker is not None:
        return broker.describe()
    count = sum(len(p.interactions) for p in pacts)
    return f"{count} interactions from {', '.join(p.path.name for p in pacts)}"


@contextmanager
def _system(
    topology: Topology,
    system: RunningSystem | None,
    *,
    backend: str,
    say: Progress,
) -> Iterator[RunningSystem]:
    if system is not None:
        yield system
        return
    from harness.runtime import start_system

    say(f"starting {topology.system.name} ({len(topology.services)} services, {backend})")
    with start_system(topology, backend=backend) as running:
        yield running


def _figures(
    results: Sequence[ProviderResult],
    coverage: Sequence[EdgeCoverage],
    *,
    startup: float,
    total: float,
) -> dict[str, int | float]:
    interactions = [i for r in results for i in r.interactions]
    covered = [row for row in coverage if row.covered]
    return {
        "providers": len(results),
        "interactions": len(interactions),
        "interactions_passed": sum(1 for i in interactions if i.passed),
        "interactions_failed": sum(1 for i in interactions if not i.passed),
        "edges": len(coverage),
        "edges_covered": len(covered),
        "startup_seconds": round(startup, 3),
        "verification_seconds": round(sum(r.seconds for r in results), 3),
        "total_seconds": round(total, 3),
    }
