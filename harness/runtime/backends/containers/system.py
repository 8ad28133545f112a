"""`ContainerSystem`: a `RunningSystem` whose services (and fault proxy) are containers.

Process faults become container faults, with the same meaning as in the process backend:
`kill` (SIGKILL; the container stays, with its filesystem), `restart` (start the same
container again; its host port is read again, as the engine may publish a new one),
`pause`/`resume` (the cgroup freezer: connections are accepted, never answered). Beside
them, a fault only containers have: `disconnect`/`reconnect` take the container off its
network and put it back at the same address (a real partition: its address stops
answering, for every caller, the harness included).

Every change is written to the run's state files, so `open_run` in another process drives
the same containers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harness.faults import FaultInjector
from harness.runtime.backends.containers.cleanup import remove_run
from harness.runtime.backends.containers.network import mac_address
from harness.runtime.backends.containers.records import (
    ContainerRecord,
    ContainersState,
    write_records,
)
from harness.runtime.health import HealthTarget
from harness.runtime.ports import LOOPBACK, wait_ports_closed
from harness.runtime.processes import tail_lines
from harness.runtime.rundir import RunState, ServiceRecord, clear_current_run, write_state
from harness.runtime.system import LOG_TAIL_LINES, RunningSystem, ServiceHandle
from harness.runtime.teardown import StopReport, signals_held
from harness.topology import Topology

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

__all__ = ["ContainerServiceHandle", "ContainerSystem", "exit_status_of"]

ALIVE = frozenset({"running", "paused", "restarting"})
KILL_WAIT = 10.0
STATUS_CACHE_SECONDS = 0.5  # health waits poll often; the engine need not answer each poll


class ContainerServiceHandle(ServiceHandle):
    """A service running in a container: `log_path` is its log in the run directory."""

    def __init__(self, record: ServiceRecord, container: ContainerRecord) -> None:
        super().__init__(record, None)
        self._container = container

    def __repr__(self) -> str:
        return f"ContainerServiceHandle({self.name!r}, url={self.url!r})"

    @property
    def container_id(self) -> str:
        return self._container.container_id

    @property
    def image(self) -> str:
        return self._container.image

    @property
    def log_path(self) -> Path:
        return Path(self._container.log_path)

    @property
    def disconnected(self) -> bool:
        return self._container.disconnected

    @property
    def managed(self) -> bool:
        return True


def exit_status_of(container: Container) -> str | None:
    """None while the container runs (or is paused); else how it ended."""
    container.reload()
    if container.status in ALIVE:
        return None
    code = container.attrs.get("State", {}).get("ExitCode")
    return f"container {container.status} (exit code {code})"


class ContainerSystem(RunningSystem):
    """A system brought up by the containers backend (see `backends.containers.backend`)."""

    def __init__(
        self,
        *,
        topology: Topology,
        run_dir: Path,
        state: RunState,
        faults: FaultInjector,
        records: ContainersState,
        client: docker.DockerClient,
        home: Path | None = None,
    ) -> None:
        super().__init__(
            topology=topology, run_dir=run_dir, state=state, faults=faults, processes={}, home=home
        )
        self.records = records
        self._client = client
        self._status_lock = threading.Lock()
        self._status_cache: dict[str, tuple[float, str | None]] = {}

    def __repr__(self) -> str:
        return f"ContainerSystem({self.run_dir}, services={sorted(self.records.services)})"

    # -- views ---------------------------------------------------------------------------------

    @property
    def services(self) -> dict[str, ServiceHandle]:
        return {
            name: ContainerServiceHandle(record, self.records.services[name])
            for name, record in self._state.services.items()
        }

    @property
    def network(self) -> str:
        """The name of the run's private network."""
        return self.records.network

    def _container_record(self, service: str) -> ContainerRecord:
        self._record(service)  # UnknownServiceError naming the services
        return self.records.services[service]

    def _container(self, service: str) -> Container:
        return self._client.containers.get(self._container_record(service).container_id)

    # -- container faults ----------------------------------------------------------------------

    def kill(self, service: str) -> None:
        """SIGKILL the container's processes and wait until it has stopped."""
        with self._lock:
            container = self._container(service)
            record = self._container_record(service)
            container.reload()
            if container.status == "paused":
                container.unpause()  # a frozen process cannot die until thawed
            if container.status in ALIVE:
                container.kill()
                container.wait(timeout=KILL_WAIT)
            record.paused = self._record(service).paused = False
            self._forget_status(service)
            self._save()

    def restart(self, service: str, *, timeout: float | None = None) -> None:
        """Start the service's container again (killed first if still running), read its host
        port again, and wait until healthy (`timeout`: the topology's `startup_timeout`)."""
        with self._lock:
            self.kill(service)
            container = self._container(service)
            container.start()
            self._refresh_port(service, container)
            self._forget_status(service)
            self._save()
        self.wait_healthy(service, timeout=timeout)

    def pause(self, service: str) -> None:
        """Freeze every process of the container (docker pause)."""
        with self._lock:
            self._container(service).pause()
            self._container_record(service).paused = self._record(service).paused = True
            self._save()

    def resume(self, service: str) -> None:
        """Thaw the container (docker unpause)."""
        with self._lock:
            self._container(service).unpause()
            self._container_record(service).paused = self._record(service).paused = False
            self._save()

    def disconnect(self, service: str) -> None:
        """Take the service's container off the run's network: a real partition (its address
        and its published port stop answering)."""
        with self._lock:
            record = self._container_record(service)
            if record.disconnected:
                return
            self._client.networks.get(self.records.network).disconnect(record.container_id)
            record.disconnected = True
            self._save()

    def reconnect(self, service: str) -> None:
        """Put the container back on the network, at its address (undoes `disconnect`)."""
        with self._lock:
            record = self._container_record(service)
            if not record.disconnected:
                return
            network = self._client.networks.get(self.records.network)
            network.connect(
                record.container_id,
                aliases=[service],
                ipv4_address=record.address,
                mac_address=mac_address(record.address),
            )
            record.disconnected = False
            self._save()

    def is_alive(self, service: str) -> bool:
        return self._exit_status(service, fresh=True) is None

    def _refresh_port(self, service: str, container: Container) -> None:
        """The engine may publish a restarted container on another host port: ask again."""
        record = self._container_record(service)
        bindings = self._client.api.port(container.id, record.container_port) or []
        ours = [b for b in bindings if b.get("HostIp") in (LOOPBACK, "", "0.0.0.0")]
        if not ours:
            return  # disconnected: nothing published until it is back on the network
        port = int(ours[0]["HostPort"])
        record.host_port = port
        service_record = self._record(service)
        service_record.port = port
        service_record.url = f"http://{LOOPBACK}:{port}"

    # -- health and logs -----------------------------------------------------------------------

    def _exit_status(self, service: str, *, fresh: bool = False) -> str | None:
        now = time.monotonic()
        with self._status_lock:
            cached = self._status_cache.get(service)
            if cached is not None and not fresh and now - cached[0] < STATUS_CACHE_SECONDS:
                return cached[1]
        status = exit_status_of(self._container(service))
        with self._status_lock:
            self._status_cache[service] = (now, status)
        return status

    def _forget_status(self, service: str) -> None:
        with self._status_lock:
            self._status_cache.pop(service, None)

    def _health_target(self, service: str) -> HealthTarget:
        record = self._record(service)
        return HealthTarget.of(
            service, record.url, record.health, lambda: self._exit_status(service)
        )

    def log_tail(self, service: str, lines: int = LOG_TAIL_LINES) -> list[str]:
        return tail_lines(self._container_record(service).log_path, lines)

    def restore(self) -> None:
        """Undo every fault: reconnect, resume, start what is dead, reset the proxies; then
        wait until every service touched is healthy again."""
        touched = []
        with self._lock:
            for name, record in self.records.services.items():
                if record.disconnected:
                    self.reconnect(name)
                    touched.append(name)
                if record.paused:
                    self.resume(name)
                    touched.append(name)
                if not self.is_alive(name):
                    container = self._container(name)
                    container.start()
                    self._refresh_port(name, container)
                    self._forget_status(name)
                    touched.append(name)
            self._save()
        self.faults.reset()
        if touched:
            self._wait_healthy(sorted(set(touched)), None)

    # -- lifetime ------------------------------------------------------------------------------

    def stop(self, *, grace: float = 3.0) -> StopReport:
        """Remove every container and the network of the run; check the host ports closed.

        Containers are removed forcibly (SIGKILL): the run is over, nothing needs a graceful
        shutdown, and `grace` is accepted for the interface's sake.
        """
        with self._lock, signals_held():
            if self._stopped:
                return StopReport(run_dir=self.run_dir)
            self._stopped = True
            self._state.status = "stopping"
            self._save()
            report = StopReport(run_dir=self.run_dir)
            try:
                report.survivors = remove_run(self._state.run_id, client=self._client)
            finally:
                self._client.close()
            report.busy_ports = wait_ports_closed(self._host_ports(), timeout=5.0)
            self._state.status = "stopped"
            self._save()
            if self._home is not None:
                clear_current_run(self._home, self.run_dir)
        return report

    def _host_ports(self) -> list[int]:
        ports = [record.host_port for record in self.records.all()]
        ports += [int(e.listen.rsplit(":", 1)[1]) for e in self._state.edges.values() if e.listen]
        return ports

    def _save(self) -> None:
        write_records(self.run_dir, self.records)
        write_state(self.run_dir, self._state)
