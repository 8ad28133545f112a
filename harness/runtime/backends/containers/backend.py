"""The containers backend: every service, and the fault proxy, in a container of its own.

Any Docker-API engine works (Docker, or Podman as `scripts/containers/setup.sh` prepares it
on machines with neither Docker nor a registry). Start-up:

1. apply the engine settings (`engine.env`), check an engine answers, and remove what
   crashed runs left behind (containers and networks found by their run labels);
2. build what is missing of the images (`containers.images`: an app image FROM the base
   image with the dependencies and sources, one image per service; cached by content);
3. pick the host ports (127.0.0.1 only), create the run's private network on a subnet of
   its own (`containers.network`: every container gets a fixed address, kept across
   restarts), and start the fault proxy's container and the services' containers
   (testcontainers `DockerContainer` on a `Network`), recording each at once, with the
   run's labels;
4. create one proxy per edge in the fault proxy, listening on the port the source's env
   already points at (`PAYMENTS_URL=http://<proxy address>:9003`) and forwarding to the
   target's address (`<payments address>:8000`); then wait for every health path, through
   the published ports, in parallel.

Inside the network every call goes through the proxy container, as in the process
backend, by address (see `containers.network` for why not by name); from the host, each
service, each edge and the proxy's API have a port on 127.0.0.1. Logs go to
`<run dir>/<service>.log` (the run directory is mounted at `/harness/run`, where the SQLite
databases also live). Any failure removes everything started and raises `StartupError`
with the last log lines of what failed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from harness.faults import FaultProxyError, ToxiproxyClient
from harness.runtime.backends.containers.cleanup import (
    clean_stale_containers,
    remove_run,
    run_has_live_containers,
)
from harness.runtime.backends.containers.engine import (
    EngineUnavailable,
    client_settings,
    configure_environment,
    docker_client,
    engine_unavailable_reason,
)
from harness.runtime.backends.containers.images import (
    CONTAINER_RUN_DIR,
    CONTAINER_TOPOLOGY_DIR,
    FAULT_PROXY_API_PORT,
    SERVICE_PORT,
    build_images,
    container_values,
    fault_proxy_command,
    plan_images,
)
from harness.runtime.backends.containers.labels import (
    LABEL_ROLE,
    LABEL_SERVICE,
    ROLE_FAULT_PROXY,
    ROLE_SERVICE,
    run_labels,
)
from harness.runtime.backends.containers.network import (
    FAULT_PROXY_HOST,
    FIRST_SERVICE_HOST,
    create_network,
    endpoint_config,
)
from harness.runtime.backends.containers.records import (
    ContainerRecord,
    ContainersState,
    read_records,
    write_records,
)
from harness.runtime.backends.containers.system import ContainerSystem, exit_status_of
from harness.runtime.commands import service_argv, service_cwd
from harness.runtime.embedded_proxy import FAULT_PROXY_LOG, FAULT_PROXY_NAME, SEED_ENV
from harness.runtime.errors import RunNotFoundError, StartupError
from harness.runtime.health import HealthTarget, wait_all_healthy
from harness.runtime.ports import LOOPBACK, pick_free_ports
from harness.runtime.processes import tail_lines
from harness.runtime.proxies import faults_from_state
from harness.runtime.rundir import (
    EdgeRecord,
    FaultProxyRecord,
    RunState,
    ServiceRecord,
    new_state,
    write_state,
)
from harness.runtime.teardown import StopReport
from harness.topology import ServiceSpec, Topology

if TYPE_CHECKING:
    import docker
    from testcontainers.core.network import Network

__all__ = ["ContainersBackend", "launch_containers", "open_container_run"]

log = logging.getLogger(__name__)

EDGE_PORT_BASE = 9000  # edge i listens on 9000 + i inside the fault proxy's container
FAULT_PROXY_START_TIMEOUT = 30.0
START_WORKERS = 8


class ContainersBackend:
    """A container per service and for the fault proxy; see the module docstring."""

    name = "containers"

    independent = True

    def launch(
        self, topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
    ) -> ContainerSystem:
        return launch_containers(topology, run_dir=run_dir, home=home, toxiproxy_url=toxiproxy_url)

    def reopen(
        self, state: RunState, *, run_dir: Path, topology: Topology, home: Path | None
    ) -> ContainerSystem:
        return open_container_run(run_dir, state, topology, home=home)

    def is_alive(self, state: RunState) -> bool:
        return run_has_live_containers(state.run_id)  # a detached run lives with its containers

    def remove(self, state: RunState, *, run_dir: Path) -> StopReport:
        state.status = "stopping"
        write_state(run_dir, state)
        report = StopReport(run_dir=run_dir, survivors=remove_run(state.run_id))
        state.status = "stopped"
        write_state(run_dir, state)
        return report


def launch_containers(
    topology: Topology, *, run_dir: Path, home: Path | None, toxiproxy_url: str | None
) -> ContainerSystem:
    """Bring `topology` up in containers; see the module docstring for the steps."""
    clock_start = time.monotonic()
    if toxiproxy_url is not None:
        log.warning(
            "the containers backend runs the fault proxy in a container of its own; "
            "TOXIPROXY_URL (%s) is not used",
            toxiproxy_url,
        )
    client = _engine()
    try:
        clean_stale_containers(client=client)
        images = build_images(plan_images(topology), client=client)
        log.info(
            "images (%.1f s after the start call): %s",
            time.monotonic() - clock_start,
            images.describe(),
        )
        state = new_state(topology, run_dir=run_dir, backend="containers")
        write_state(run_dir, state)
        records = ContainersState(network=f"harness-{state.run_id}", images=images.tags)
        launcher = _Launcher(topology, state, records, run_dir)
        write_records(run_dir, records)
        try:
            launcher.start(client)
        except BaseException:
            state.status = "stopping"
            write_state(run_dir, state)
            remove_run(state.run_id, client=client)
            state.status = "stopped"
            write_state(run_dir, state)
            raise
    except BaseException:
        client.close()
        raise
    state.status = "running"
    state.startup_seconds = time.monotonic() - clock_start
    write_state(run_dir, state)
    return ContainerSystem(
        topology=topology,
        run_dir=run_dir,
        state=state,
        faults=faults_from_state(state),
        records=records,
        client=client,
        home=home,
    )


def open_container_run(
    run_dir: Path, state: RunState, topology: Topology, *, home: Path | None
) -> ContainerSystem:
    """The containers run recorded in `run_dir`, to drive or stop from any process."""
    records = read_records(run_dir)
    if records is None:
        raise RunNotFoundError(f"no readable containers.json in {run_dir}")
    try:
        client = _engine()
    except EngineUnavailable as exc:
        raise RunNotFoundError(
            f"cannot reach the containers of the run in {run_dir}: {exc}"
        ) from None
    return ContainerSystem(
        topology=topology,
        run_dir=run_dir,
        state=state,
        faults=faults_from_state(state),
        records=records,
        client=client,
        home=home,
    )


def _engine() -> docker.DockerClient:
    configure_environment()
    reason = engine_unavailable_reason()
    if reason is not None:
        raise EngineUnavailable(reason)
    return docker_client()


class _Launcher:
    """One start-up: the plan of ports, then the network, the containers and the proxies."""

    def __init__(
        self, topology: Topology, state: RunState, records: ContainersState, run_dir: Path
    ) -> None:
        self.topology = topology
        self.state = state
        self.records = records
        self.run_dir = run_dir
        self._lock = threading.Lock()
        self.addresses: dict[str, str] = {}  # container name -> fixed address (see start)
        startable = list(topology.services.values())
        fixed = [s.port for s in startable if s.port]
        wanted = sum(1 for s in startable if not s.port) + len(topology.edges) + 1
        free = iter(pick_free_ports(wanted, exclude=fixed))
        self.host_ports = {s.name: s.port or next(free) for s in startable}
        self.edge_ports = {
            edge.name: (EDGE_PORT_BASE + index, next(free))
            for index, edge in enumerate(topology.edges)
        }
        self.api_port = next(free)

    def start(self, client: docker.DockerClient) -> None:
        network, subnet = create_network(self.records.network, self._labels(), client=client)
        self.records.subnet = str(subnet)
        self.addresses = {FAULT_PROXY_NAME: str(subnet[FAULT_PROXY_HOST])}
        for index, name in enumerate(self.topology.services):
            self.addresses[name] = str(subnet[FIRST_SERVICE_HOST + index])
        self._record_plan()
        jobs: list[Callable[[Network], None]] = []
        if self.topology.edges:
            jobs.append(self._start_fault_proxy)
        jobs += [self._service_starter(name) for name in self.topology.services]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=START_WORKERS, thread_name_prefix="start") as pool:
            futures = [pool.submit(job, network) for job in jobs]
            for future in futures:
                future.result()
        log.info("%d containers started in %.1f s", len(jobs), time.monotonic() - started)
        if self.topology.edges:
            self._create_proxies(client)
        self._wait_healthy(client)
        log.info("healthy %.1f s after the first container start", time.monotonic() - started)

    def _labels(self, **extra: str) -> dict[str, str]:
        return run_labels(self.state.run_id, self.run_dir, **extra)

    def _record_plan(self) -> None:
        """Services, edges and the proxy's API in the state file, before anything starts."""
        for name, service in self.topology.services.items():
            port = self.host_ports[name]
            self.state.services[name] = ServiceRecord(
                name=name, url=f"http://{LOOPBACK}:{port}", port=port, health=service.health
            )
        for edge in self.topology.edges:
            _, outside = self.edge_ports[edge.name]
            self.state.edges[edge.name] = EdgeRecord(
                name=edge.name,
                source=edge.source,
                target=edge.target,
                proxy_name=edge.name,
                listen=f"{LOOPBACK}:{outside}",
                upstream=f"{self.addresses[edge.target]}:{SERVICE_PORT}",
                env_var=edge.env_var,
            )
        if self.topology.edges:
            api_url = f"http://{LOOPBACK}:{self.api_port}"
            self.state.fault_proxy = FaultProxyRecord(api_url=api_url, embedded=True)
        write_state(self.run_dir, self.state)

    # -- containers ----------------------------------------------------------------------------

    def _service_starter(self, name: str) -> Callable[[Network], None]:
        def start(network: Network) -> None:
            service = self.topology.services[name]
            values = container_values(service)
            cwd = CONTAINER_RUN_DIR
            if service.cwd is not None:
                relative = service_cwd(service, values, Path("/")).relative_to("/")
                cwd = f"{CONTAINER_TOPOLOGY_DIR}/{relative}"
            record = self._start(
                network,
                name=name,
                image=self.records.images[name],
                command=self._command(name),
                env=self._service_env(service, values),
                ports={SERVICE_PORT: self.host_ports[name]},
                labels=self._labels(**{LABEL_ROLE: ROLE_SERVICE, LABEL_SERVICE: name}),
                working_dir=cwd,
            )
            with self._lock:
                self.records.services[name] = record
                write_records(self.run_dir, self.records)

        return start

    def _start_fault_proxy(self, network: Network) -> None:
        command = self._command(FAULT_PROXY_NAME)
        seed = os.environ.get(SEED_ENV)
        if seed:
            command += ["--seed", seed]
        ports = {FAULT_PROXY_API_PORT: self.api_port}
        ports.update(dict(self.edge_ports.values()))
        record = self._start(
            network,
            name=FAULT_PROXY_NAME,
            image=self.records.images[FAULT_PROXY_NAME],
            command=command,
            env={},
            ports=ports,
            labels=self._labels(**{LABEL_ROLE: ROLE_FAULT_PROXY}),
            working_dir=CONTAINER_RUN_DIR,
            log_name=FAULT_PROXY_LOG,
        )
        with self._lock:
            self.records.fault_proxy = record
            write_records(self.run_dir, self.records)

    def _command(self, name: str) -> list[str]:
        """The command baked into `name`'s image (a container runs it under `_start`)."""
        if name == FAULT_PROXY_NAME:
            return fault_proxy_command()
        service = self.topology.services[name]
        return service_argv(service, container_values(service))

    def _service_env(self, service: ServiceSpec, values: dict[str, str]) -> dict[str, str]:
        env = self.topology.system.rendered_env(values)
        env.update(service.rendered_env(values))
        env.update({"HOST": values["host"], "PORT": values["port"]})
        for edge in self.topology.dependencies(service.name):
            inside, _ = self.edge_ports[edge.name]
            env[edge.env_var] = f"http://{self.addresses[FAULT_PROXY_NAME]}:{inside}"
        return env

    def _start(
        self,
        network: Network,
        *,
        name: str,
        image: str,
        command: list[str],
        env: dict[str, str],
        ports: dict[int, int],
        labels: dict[str, str],
        working_dir: str,
        log_name: str | None = None,
    ) -> ContainerRecord:
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        # Runs outlive the harness process when detached, and cleanup goes by run labels:
        # Ryuk (which removes a session's containers when the process exits) must stay out.
        testcontainers_config.ryuk_disabled = True
        log_file = log_name or f"{name}.log"
        # The output goes to the run directory, as with the process backend (`harness logs`).
        to_log = ["sh", "-c", 'exec "$@" >>"$0" 2>&1', f"{CONTAINER_RUN_DIR}/{log_file}"]
        address = self.addresses[name]
        container = DockerContainer(
            image,
            env=env,
            name=f"harness-{self.state.run_id}-{name}",
            network=network,
            network_aliases=[name],
            docker_client_kw=client_settings(),
        ).with_command(to_log + command)
        # testcontainers' with_bind_ports takes no host address; the Docker SDK does.
        bindings = cast(dict[str, object], container.ports)
        for inside, outside in ports.items():
            bindings[f"{inside}/tcp"] = (LOOPBACK, outside)
        container.with_volume_mapping(self.run_dir, CONTAINER_RUN_DIR, "rw")
        container.with_volume_mapping(self.topology.base_dir, CONTAINER_TOPOLOGY_DIR, "ro")
        container.with_kwargs(
            labels=labels,
            working_dir=working_dir,
            # testcontainers' own endpoint config has the alias only: add the fixed address
            networking_config=endpoint_config(network.name, alias=name, address=address),
        )
        try:
            container.start()
        finally:
            container.get_docker_client().client.close()
        first_port = next(iter(ports))
        return ContainerRecord(
            name=name,
            container_id=container.get_container_id(),
            image=image,
            address=address,
            container_port=first_port,
            host_port=ports[first_port],
            log_path=str(self.run_dir / log_file),
        )

    # -- proxies and health --------------------------------------------------------------------

    def _create_proxies(self, client: docker.DockerClient) -> None:
        proxy = self.records.fault_proxy
        api_record = self.state.fault_proxy
        assert proxy is not None
        assert api_record is not None
        api = ToxiproxyClient(api_record.api_url)
        container = client.containers.get(proxy.container_id)
        deadline = time.monotonic() + FAULT_PROXY_START_TIMEOUT
        while not api.is_up():
            reason = exit_status_of(container)
            if reason is None and time.monotonic() >= deadline:
                reason = f"API at {api.url} did not answer within {FAULT_PROXY_START_TIMEOUT:g} s"
            if reason is not None:
                raise StartupError(
                    "the fault proxy did not start",
                    failures={FAULT_PROXY_NAME: reason},
                    log_tails={FAULT_PROXY_NAME: tail_lines(proxy.log_path)},
                )
            time.sleep(0.05)
        for edge in self.state.edges.values():
            inside, _ = self.edge_ports[edge.name]
            try:
                api.create_proxy(
                    edge.proxy_name, upstream=edge.upstream, listen=f"0.0.0.0:{inside}"
                )
            except FaultProxyError as exc:
                raise StartupError(
                    f"could not create the proxy for edge {edge.name}",
                    failures={FAULT_PROXY_NAME: str(exc)},
                ) from exc

    def _wait_healthy(self, client: docker.DockerClient) -> None:
        containers = {
            name: client.containers.get(record.container_id)
            for name, record in self.records.services.items()
        }
        last_check: dict[str, tuple[float, str | None]] = {}

        def exit_status(name: str) -> str | None:
            # every 0.5 s at most: the health polls come every 50 ms
            checked = last_check.get(name)
            if checked is None or time.monotonic() - checked[0] > 0.5:
                checked = (time.monotonic(), exit_status_of(containers[name]))
                last_check[name] = checked
            return checked[1]

        targets = [
            HealthTarget.of(name, record.url, record.health, partial(exit_status, name))
            for name, record in self.state.services.items()
        ]
        timeout = self.topology.system.startup_timeout
        failures = wait_all_healthy(targets, timeout=timeout)
        if failures:
            raise StartupError(
                f"the system did not come up within {timeout:g} s; everything started was removed",
                failures=failures,
                log_tails={
                    name: tail_lines(self.records.services[name].log_path) for name in failures
                },
            )
