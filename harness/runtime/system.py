"""`RunningSystem`: a system that is up, its services and edges, and the faults you can apply.

Network faults go through `system.faults` (the edges' proxies); process faults are methods:
`kill` (SIGKILL), `restart` (same command, port and env), `pause`/`resume` (SIGSTOP/SIGCONT
to the whole process group). Every change is written to the run's state file, so a system
brought up by `harness up` can be driven from another process (`open_run`).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.faults import FaultInjector, UnknownEdgeError
from harness.runtime.errors import NotStartedByHarness, ServiceUnhealthyError, UnknownServiceError
from harness.runtime.forking import ForkServer
from harness.runtime.health import HealthTarget, probe_all, wait_all_healthy
from harness.runtime.ports import release_ports
from harness.runtime.processes import ManagedProcess, tail_lines
from harness.runtime.proxies import NO_EDGES_REASON, faults_from_state
from harness.runtime.rundir import (
    RunState,
    ServiceRecord,
    clear_current_run,
    set_current_run,
    write_state,
)
from harness.runtime.teardown import StopReport, signals_held, stop_run
from harness.topology import Topology, normalize_edge_name

__all__ = ["EdgeHandle", "RunningSystem", "ServiceHandle"]

log = logging.getLogger(__name__)
LOG_TAIL_LINES = 20


class ServiceHandle:
    """One service of a running system. `pid` follows restarts."""

    def __init__(self, record: ServiceRecord, process: ManagedProcess | None) -> None:
        self._record = record
        self._process = process

    def __repr__(self) -> str:
        return f"ServiceHandle({self.name!r}, url={self.url!r}, pid={self.pid})"

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def url(self) -> str:
        """Direct address (no proxy): `http://127.0.0.1:PORT`."""
        return self._record.url

    @property
    def port(self) -> int | None:
        return self._record.port

    @property
    def health_url(self) -> str:
        return self._record.url + (self._record.health or "/")

    @property
    def pid(self) -> int | None:
        """The process group leader's pid; None when the harness did not start it."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path | None:
        return Path(self._process.record.log_path) if self._process is not None else None

    @property
    def paused(self) -> bool:
        return self._record.paused

    @property
    def managed(self) -> bool:
        """True when the harness started this service (process faults are possible)."""
        return self._process is not None


@dataclass(frozen=True, slots=True)
class EdgeHandle:
    """`source -> target` through proxy `proxy_name`, listening on `listen`."""

    source: str
    target: str
    proxy_name: str
    listen: str | None  # "127.0.0.1:PORT"; None when the edge has no proxy (attach backend)
    upstream: str
    env_var: str
    scheme: str = "http"

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    @property
    def url(self) -> str | None:
        """The proxy's address as the source sees it (the value of `env_var`)."""
        return f"{self.scheme}://{self.listen}" if self.listen else None


class RunningSystem:
    """A system that is up (see `harness.runtime.start_system` and `open_run`)."""

    def __init__(
        self,
        *,
        topology: Topology,
        run_dir: Path,
        state: RunState,
        faults: FaultInjector,
        processes: dict[str, ManagedProcess],
        fault_proxy: ManagedProcess | None = None,
        home: Path | None = None,
        forks: ForkServer | None = None,
    ) -> None:
        self.topology = topology
        self.run_dir = run_dir
        self.faults = faults
        self._state = state
        self._processes = processes
        self._fault_proxy = fault_proxy
        self._home = home
        self._forks = forks  # the run's fork server, when this process started the run
        self._lock = threading.RLock()
        self._stopped = False

    @classmethod
    def from_state(
        cls,
        state: RunState,
        *,
        run_dir: Path,
        topology: Topology,
        home: Path | None,
        no_proxy_reason: str = NO_EDGES_REASON,
    ) -> RunningSystem:
        """The system recorded in `state` (process faults, health, logs, faults and `stop()`
        act on the recorded process groups and proxies)."""
        processes = {
            name: ManagedProcess(record.process)
            for name, record in state.services.items()
            if record.process is not None
        }
        proxy = state.fault_proxy
        return cls(
            topology=topology,
            run_dir=run_dir,
            state=state,
            faults=faults_from_state(state, unavailable_reason=no_proxy_reason),
            processes=processes,
            fault_proxy=ManagedProcess(proxy.process) if proxy and proxy.process else None,
            home=home,
        )

    def __repr__(self) -> str:
        return f"RunningSystem({self.run_dir}, services={sorted(self._state.services)})"

    # -- views ---------------------------------------------------------------------------------

    @property
    def services(self) -> dict[str, ServiceHandle]:
        return {
            name: ServiceHandle(record, self._processes.get(name))
            for name, record in self._state.services.items()
        }

    @property
    def edges(self) -> dict[str, EdgeHandle]:
        return {
            name: EdgeHandle(
                source=e.source,
                target=e.target,
                proxy_name=e.proxy_name,
                listen=e.listen,
                upstream=e.upstream,
                env_var=e.env_var,
                scheme=self._state.services[e.target].url.split("://", 1)[0],
            )
            for name, e in self._state.edges.items()
        }

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def startup_seconds(self) -> float | None:
        """Seconds from the start call to every service healthy (None for an opened run)."""
        return self._state.startup_seconds

    @property
    def detached(self) -> bool:
        return self._state.detached

    @property
    def fault_proxy_url(self) -> str | None:
        return self._state.fault_proxy.api_url if self._state.fault_proxy else None

    def url(self, service: str) -> str:
        """The service's direct base URL."""
        return self._record(service).url

    def edge(self, name: str) -> EdgeHandle:
        """The edge `orders->payments` (spaces around the arrow are ignored)."""
        key = normalize_edge_name(name)
        try:
            return self.edges[key]
        except KeyError:
            known = ", ".join(sorted(self._state.edges)) or "(none)"
            raise UnknownEdgeError(f"unknown edge {name!r}; edges are: {known}") from None

    def _record(self, service: str) -> ServiceRecord:
        try:
            return self._state.services[service]
        except KeyError:
            known = ", ".join(sorted(self._state.services))
            raise UnknownServiceError(
                f"unknown service {service!r}; services are: {known}"
            ) from None

    def _process(self, service: str) -> ManagedProcess:
        self._record(service)
        process = self._processes.get(service)
        if process is None:
            raise NotStartedByHarness(
                f"service {service!r} was not started by the harness ({self._state.backend} "
                "backend); process faults need the process backend"
            )
        return process

    # -- process faults ------------------------------------------------------------------------

    def kill(self, service: str) -> None:
        """SIGKILL the service's whole process group and wait until it is gone."""
        with self._lock:
            process = self._process(service)
            process.kill()
            self._record(service).paused = False
            self._save()

    def restart(self, service: str, *, timeout: float | None = None) -> None:
        """Start the service again (same command, port and env) and wait until healthy.

        A service still running is killed first. `timeout` defaults to the topology's
        `startup_timeout`.
        """
        with self._lock:
            process = self._process(service)
            if process.is_alive():
                process.kill()
            fresh = self._start_again(service, process)
            self._processes[service] = fresh
            record = self._record(service)
            record.process = fresh.record
            record.paused = False
            self._save()
        self.wait_healthy(service, timeout=timeout)

    def _start_again(self, service: str, process: ManagedProcess) -> ManagedProcess:
        """The same command as `process` (which is gone), in its own new process group:
        forked from the run's fork server while it is up, since its libraries are imported
        already (start-up then costs what the service itself does), else spawned cold."""
        if self._forks is not None:
            forked = self._forks.refork(service, process.record)
            if forked is not None:
                return forked
        return process.respawn()

    def pause(self, service: str) -> None:
        """SIGSTOP the process group: connections are accepted by the kernel, never answered."""
        with self._lock:
            self._process(service).signal(signal.SIGSTOP)
            self._record(service).paused = True
            self._save()

    def resume(self, service: str) -> None:
        """SIGCONT the process group."""
        with self._lock:
            self._process(service).signal(signal.SIGCONT)
            self._record(service).paused = False
            self._save()

    def disconnect(self, service: str) -> None:
        """Take the service off the network (a real partition): the containers backend only.

        Elsewhere, partition its edges instead (`faults.partition(edge)`).
        """
        self._record(service)
        raise NotStartedByHarness(
            f"disconnecting {service!r} from the network needs the containers backend (this "
            f"system runs on the {self._state.backend} backend); partition its edges instead"
        )

    def reconnect(self, service: str) -> None:
        """Undo `disconnect`: the containers backend only."""
        self.disconnect(service)

    def is_alive(self, service: str) -> bool:
        process = self._processes.get(service)
        return process.is_alive() if process is not None else True

    def wait_healthy(self, service: str, timeout: float | None = None) -> None:
        """Wait until the service's health path answers 2xx; raises `ServiceUnhealthyError`."""
        self._wait_healthy([service], timeout)

    def _wait_healthy(self, services: list[str], timeout: float | None) -> None:
        limit = timeout if timeout is not None else self.topology.system.startup_timeout
        targets = [self._health_target(name) for name in services]
        failures = wait_all_healthy(targets, timeout=limit)
        if failures:
            raise ServiceUnhealthyError(
                f"{', '.join(sorted(failures))} not healthy within {limit:g} s",
                failures=failures,
                log_tails={name: self.log_tail(name) for name in failures},
            )

    def _health_target(self, service: str) -> HealthTarget:
        record = self._record(service)
        process = self._processes.get(service)

        exit_status = process.exit_status if process is not None else _never_exits
        return HealthTarget.of(service, record.url, record.health, exit_status)

    def health(self) -> dict[str, str | None]:
        """One probe of every service: `{name: None}` if healthy, else the reason."""
        return probe_all([self._health_target(name) for name in self._state.services])

    def log_tail(self, service: str, lines: int = LOG_TAIL_LINES) -> list[str]:
        process = self._processes.get(service)
        return tail_lines(process.record.log_path, lines) if process is not None else []

    def restore(self) -> None:
        """Undo every fault: resume paused services, restart dead ones, reset the proxies."""
        with self._lock:
            restarted = []
            for name, process in list(self._processes.items()):
                if self._record(name).paused:
                    self.resume(name)
                if not process.is_alive():
                    fresh = self._start_again(name, process)
                    self._processes[name] = fresh
                    self._record(name).process = fresh.record
                    restarted.append(name)
            self._save()
        self.faults.reset()
        if restarted:
            self._wait_healthy(restarted, None)

    # -- lifetime ------------------------------------------------------------------------------

    def detach(self) -> None:
        """Leave the system running when the owner exits; `harness down` stops it."""
        with self._lock:
            self._state.detached = True
            self._save()
            if self._home is not None:
                set_current_run(self._home, self.run_dir)

    def stop(self, *, grace: float = 3.0) -> StopReport:
        """Stop every process (SIGTERM, SIGKILL after `grace` s) and check the ports closed."""
        with self._lock, signals_held():
            if self._stopped:
                return StopReport(run_dir=self.run_dir)
            self._stopped = True
            processes = list(self._processes.values())
            if self._fault_proxy is not None:
                processes.append(self._fault_proxy)
            if self._forks is not None:
                self._forks.close()  # nothing is restarted from now on
            report = stop_run(self.run_dir, self._state, processes, grace=grace)
            release_ports(self._state.ports())  # the reservations `launch` kept for the run
            if self._home is not None:
                clear_current_run(self._home, self.run_dir)
        if not report.clean:
            log.warning("run %s left %s", self.run_dir, report)
        return report

    def _save(self) -> None:
        write_state(self.run_dir, self._state)


def _never_exits() -> None:
    return None
