"""The local-process backend: every service and the fault proxy as local process groups.

Start-up, all at once rather than in dependency order (callers only ever see their
dependencies through proxies, so nothing needs its dependency up to start):

1. pick every port up front: services with `port = 0`, each edge's proxy, the proxy's API;
2. spawn the embedded fault proxy and the services, recording each in the state file at
   once (a harness killed half-way leaves a run the next start can clean); with `preload`,
   Python services go through a fork server, which imports the shared libraries meanwhile
   and stays up with the system, so that restarting a service forks it from there too;
3. create one proxy per edge, named `source->target`, listening where the source's env
   already points, then collect the forked services;
4. wait for every health path in parallel, with a deadline.

Any failure stops everything started so far and raises `StartupError`, with the last log
lines of whatever failed. Every process started carries the run's mark in its environment
(`RUN_ID_ENV`), and the fork server is on record before it forks: whatever instant the owner
is killed in, teardown from the state file finds every process of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.faults import FaultProxyError, FaultTargetExists, ToxiproxyClient
from harness.runtime.commands import service_argv, service_cwd, template_values
from harness.runtime.embedded_proxy import FAULT_PROXY_NAME, spawn_fault_proxy, wait_api
from harness.runtime.errors import StartupError, startup_failure
from harness.runtime.forking import ForkServer, SpawnSpec, forkable
from harness.runtime.health import HealthTarget, wait_all_healthy
from harness.runtime.ports import LOOPBACK, pick_free_ports
from harness.runtime.processes import ManagedProcess, marked_processes, tail_lines
from harness.runtime.proxies import faults_from_state
from harness.runtime.rundir import (
    RUN_ID_ENV,
    EdgeRecord,
    FaultProxyRecord,
    RunState,
    ServiceRecord,
    new_state,
    write_state,
)
from harness.runtime.system import RunningSystem
from harness.runtime.teardown import StopReport, stop_run
from harness.topology import ServiceSpec, Topology

__all__ = ["ProcessBackend"]

FAULT_PROXY_START_TIMEOUT = 15.0
FORK_SERVER_LOG = "fork-server.log"


class ProcessBackend:
    """Local processes (the default); see the module docstring."""

    name = "process"

    independent = True

    def launch(
        self, topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
    ) -> RunningSystem:
        return launch_processes(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)

    def reopen(
        self, state: RunState, *, run_dir: Path, topology: Topology, home: Path | None
    ) -> RunningSystem:
        return RunningSystem.from_state(state, run_dir=run_dir, topology=topology, home=home)

    def is_alive(self, state: RunState) -> bool:
        recorded = any(ManagedProcess(record).is_alive() for record in state.processes())
        return recorded or bool(marked_processes(state.run_id))

    def remove(self, state: RunState, *, run_dir: Path) -> StopReport:
        return stop_run(run_dir, state)


@dataclass(slots=True)
class _Plan:
    """Where everything will listen, decided before anything starts."""

    ports: dict[str, int]  # startable service -> port
    edges: dict[str, EdgeRecord]
    api_port: int | None  # embedded fault proxy API, None with a real Toxiproxy


def _address(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _plan(topology: Topology, *, embedded: bool) -> _Plan:
    startable = [s for s in topology.services.values() if s.startable]
    fixed = [s.port for s in startable if s.port]
    wanted = sum(1 for s in startable if not s.port) + len(topology.edges)
    wanted += 1 if embedded and topology.edges else 0
    free = iter(pick_free_ports(wanted, exclude=fixed))
    ports = {s.name: s.port or next(free) for s in startable}
    edges = {}
    for edge in topology.edges:
        target = topology.services[edge.target]
        upstream = (
            f"{LOOPBACK}:{ports[target.name]}" if target.startable else _address(target.url or "")
        )
        edges[edge.name] = EdgeRecord(
            name=edge.name,
            source=edge.source,
            target=edge.target,
            proxy_name=edge.name,
            listen=f"{LOOPBACK}:{next(free)}",
            upstream=upstream,
            env_var=edge.env_var,
        )
    api_port = next(free) if embedded and topology.edges else None
    return _Plan(ports=ports, edges=edges, api_port=api_port)


def _service_env(
    topology: Topology, service: ServiceSpec, plan: _Plan, values: dict[str, str], run_id: str
) -> dict[str, str]:
    env = topology.system.rendered_env(values)
    env.update(service.rendered_env(values))
    env.update({"HOST": LOOPBACK, "PORT": values["port"], RUN_ID_ENV: run_id})
    for edge in topology.dependencies(service.name):
        record = plan.edges[edge.name]
        scheme = (
            "https" if (topology.services[edge.target].url or "").startswith("https") else "http"
        )
        env[edge.env_var] = f"{scheme}://{record.listen}"
    return env


def launch_processes(
    topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
) -> RunningSystem:
    """Bring `topology` up as local processes; see the module docstring for the steps."""
    clock_start = time.monotonic()
    state = new_state(topology, run_dir=run_dir, backend="process")
    write_state(run_dir, state)
    embedded = toxiproxy_url is None
    plan = _plan(topology, embedded=embedded)
    processes: dict[str, ManagedProcess] = {}
    fault_proxy: ManagedProcess | None = None
    forks: ForkServer | None = None

    def started(name: str, process: ManagedProcess) -> None:
        processes[name] = process
        state.services[name].process = process.record
        write_state(run_dir, state)

    try:
        client, fault_proxy = _start_fault_proxy(state, plan, run_dir, toxiproxy_url)
        forks = _spawn_services(topology, state, plan, run_dir, started)
        if client is not None:
            # while the fork server preloads: the proxies exist before any service calls out
            state.edges = plan.edges
            write_state(run_dir, state)
            wait_api(client, fault_proxy, timeout=FAULT_PROXY_START_TIMEOUT)
            _create_proxies(client, plan, replace=not embedded)
        if forks is not None:
            forks.collect(timeout=topology.system.startup_timeout, adopted=started)
        _wait_services(topology, state, processes)
    except BaseException:
        orphans = forks.abort() if forks is not None else []
        everything = [*processes.values(), *orphans, *([fault_proxy] if fault_proxy else [])]
        stop_run(run_dir, state, everything, grace=1.0)
        raise
    state.status = "running"
    state.startup_seconds = time.monotonic() - clock_start
    write_state(run_dir, state)
    return RunningSystem(
        topology=topology,
        run_dir=run_dir,
        state=state,
        faults=faults_from_state(state),
        processes=processes,
        fault_proxy=fault_proxy,
        home=home,
        forks=forks,
    )


def _start_fault_proxy(
    state: RunState, plan: _Plan, run_dir: Path, toxiproxy_url: str | None
) -> tuple[ToxiproxyClient | None, ManagedProcess | None]:
    if toxiproxy_url is not None:
        client = ToxiproxyClient(toxiproxy_url)
        state.fault_proxy = FaultProxyRecord(api_url=client.url, embedded=False)
        return client, None
    if plan.api_port is None:
        return None, None  # no edges: nothing to proxy
    process = spawn_fault_proxy(run_dir=run_dir, port=plan.api_port, run_id=state.run_id)
    api_url = f"http://{LOOPBACK}:{plan.api_port}"
    state.fault_proxy = FaultProxyRecord(api_url=api_url, embedded=True, process=process.record)
    write_state(run_dir, state)
    return ToxiproxyClient(api_url), process


def _spawn_services(
    topology: Topology,
    state: RunState,
    plan: _Plan,
    run_dir: Path,
    started: Callable[[str, ManagedProcess], None],
) -> ForkServer | None:
    """Start every startable service: Python ones through a fork server when the topology
    preloads modules (returned, still forking), the others spawned here."""
    specs: list[SpawnSpec] = []
    for service in topology.services.values():
        if not service.startable:
            state.services[service.name] = ServiceRecord(
                name=service.name, url=service.url or "", health=service.health
            )
            continue
        port = plan.ports[service.name]
        values = template_values(service, port=port, run_dir=run_dir, base_dir=topology.base_dir)
        specs.append(
            SpawnSpec(
                key=service.name,
                argv=service_argv(service, values),
                env=_service_env(topology, service, plan, values, state.run_id),
                cwd=service_cwd(service, values, topology.base_dir),
                log_path=run_dir / f"{service.name}.log",
            )
        )
        state.services[service.name] = ServiceRecord(
            name=service.name, url=f"http://{LOOPBACK}:{port}", port=port, health=service.health
        )
    write_state(run_dir, state)
    preload = topology.system.preload
    to_fork = [spec for spec in specs if preload and forkable(spec.argv)]
    forks = None
    if to_fork:
        forks = ForkServer(
            to_fork,
            preload=preload,
            server_log=run_dir / FORK_SERVER_LOG,
            env={RUN_ID_ENV: state.run_id},
        )
        state.fork_server = forks.process.record
        write_state(run_dir, state)
        forks.begin()
    for spec in specs:
        if spec not in to_fork:
            process = ManagedProcess.spawn(
                spec.argv, env=spec.env, cwd=spec.cwd, log_path=spec.log_path
            )
            started(spec.key, process)
    return forks


def _create_proxies(client: ToxiproxyClient, plan: _Plan, *, replace: bool) -> None:
    """One proxy per edge; on a shared real Toxiproxy a leftover of the same name is replaced."""
    for edge in plan.edges.values():
        try:
            try:
                client.create_proxy(
                    edge.proxy_name, upstream=edge.upstream, listen=edge.listen or ""
                )
            except FaultTargetExists:
                if not replace:
                    raise
                client.delete_proxy(edge.proxy_name)
                client.create_proxy(
                    edge.proxy_name, upstream=edge.upstream, listen=edge.listen or ""
                )
        except FaultProxyError as exc:
            raise StartupError(
                f"could not create the proxy for edge {edge.name}",
                failures={FAULT_PROXY_NAME: str(exc)},
            ) from exc


def _wait_services(
    topology: Topology, state: RunState, processes: dict[str, ManagedProcess]
) -> None:
    targets = list(_health_targets(state, processes))
    timeout = topology.system.startup_timeout
    failures = wait_all_healthy(targets, timeout=timeout)
    if failures:
        tails = {
            name: tail_lines(processes[name].record.log_path) if name in processes else []
            for name in failures
        }
        raise StartupError(
            f"{startup_failure(failures, timeout)}; everything started was stopped",
            failures=failures,
            log_tails=tails,
        )


def _health_targets(
    state: RunState, processes: dict[str, ManagedProcess]
) -> Iterator[HealthTarget]:
    for name, record in state.services.items():
        process = processes.get(name)
        exit_status = process.exit_status if process is not None else _never_exits
        yield HealthTarget.of(name, record.url, record.health, exit_status)


def _never_exits() -> None:
    return None
