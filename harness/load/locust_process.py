"""Start Locust in its own processes: one headless standalone, or a master plus N workers.

Locust monkey-patches the interpreter with gevent when imported, so it never runs in the
harness process: we launch `python -m locust` with the profile's locustfile plus
`locust_plugin.py`, which writes the history and the result files we read back.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from harness.load.profile import LoadProfile
from harness.runtime.ports import pick_free_ports, release_ports

__all__ = [
    "LOCUST_CSV_KINDS",
    "LocustLaunch",
    "LocustProcesses",
    "locust_plugin_path",
]

#: The files Locust's `--csv PREFIX` writes: `PREFIX_<kind>.csv`.
LOCUST_CSV_KINDS = ("stats", "stats_history", "failures", "exceptions")


def locust_plugin_path() -> Path:
    """The file Locust loads next to the locustfile (never imported here: it imports Locust)."""
    return Path(__file__).with_name("locust_plugin.py")


@dataclass(frozen=True)
class LocustLaunch:
    """How to run Locust for one profile.

    Args:
        profile: the load profile.
        host: the base URL users send requests to (Locust `--host`).
        out_dir: where logs, history and result files go.
        workers: local worker processes; 0 runs one standalone process.
        remote_workers: workers started elsewhere that the master waits for (see load/README.md).
        master_bind_host: interface the master listens on for workers (default loopback).
        master_port: the master's port (0: a free one).
        extra_env: variables added to every Locust process (service URLs for seeding).
        interval: seconds between history ticks.
    """

    profile: LoadProfile
    host: str
    out_dir: Path
    workers: int = 0
    remote_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    interval: float = 1.0

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def history_path(self) -> Path:
        return self.out_dir / "locust-history.jsonl"

    @property
    def result_path(self) -> Path:
        return self.out_dir / "locust-result.json"  # runner.LOCUST_RESULT_FILE

    @property
    def locust_report_path(self) -> Path:
        """Locust's own HTML report (`--html`), beside ours."""
        return self.out_dir / "locust-report.html"

    @property
    def locust_csv_prefix(self) -> Path:
        """Locust's `--csv` prefix: `locust_stats.csv`, `locust_stats_history.csv`,
        `locust_failures.csv` and `locust_exceptions.csv` in the output directory."""
        return self.out_dir / "locust"

    @property
    def locust_csv_paths(self) -> list[Path]:
        prefix = str(self.locust_csv_prefix)
        return [Path(f"{prefix}_{kind}.csv") for kind in LOCUST_CSV_KINDS]

    @property
    def initial_stock_path(self) -> Path:
        """Where a locustfile that creates products records their stock (see load/README.md)."""
        return self.out_dir / "initial-stock.json"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.profile.env)
        env.update(self.extra_env)
        env["HARNESS_LOAD_HISTORY"] = str(self.history_path)
        env["HARNESS_LOAD_RESULT"] = str(self.result_path)
        env["HARNESS_LOAD_INTERVAL"] = str(self.interval)
        env["HARNESS_LOAD_INITIAL_STOCK"] = str(self.initial_stock_path)
        env.pop("HARNESS_LOAD_PROFILE", None)  # the runner gates; Locust just reports
        # Even a constant load runs as a one-stage shape: Locust's `-t` timer is armed on
        # gevent's cached loop clock, which is stale after a slow start-up (seen: a 3 s run
        # stopped 85 ms after a 6 s import on a busy machine); the shape reads perf_counter.
        env["HARNESS_LOAD_STAGES"] = json.dumps(
            [stage.model_dump() for stage in self.profile.load_stages]
        )
        return env

    def files_arg(self) -> str:
        return f"{self.profile.locustfile},{locust_plugin_path()}"

    def main_command(self, port: int) -> list[str]:
        """The standalone (or master) command line."""
        command = [sys.executable, "-m", "locust", "-f", self.files_arg(), "--headless"]
        command += ["--host", self.host, "--only-summary"]
        # Locust's own report and CSV, for readers who know Locust's (the master writes them).
        command += ["--html", str(self.locust_report_path)]
        command += ["--csv", str(self.locust_csv_prefix), "--csv-full-history"]
        if self.distributed:
            command += ["--master", "--master-bind-host", self.master_bind_host]
            command += ["--master-bind-port", str(port)]
            command += ["--expect-workers", str(self.workers + self.remote_workers)]
            command += ["--expect-workers-max-wait", "60"]
        return command + list(self.profile.user_classes)

    def worker_command(self, port: int) -> list[str]:
        master = "127.0.0.1" if self.master_bind_host in ("0.0.0.0", "") else self.master_bind_host
        command = [sys.executable, "-m", "locust", "-f", self.files_arg(), "--worker"]
        command += ["--master-host", master, "--master-port", str(port)]
        return command + list(self.profile.user_classes)


class LocustProcesses:
    """The running Locust processes; leaving the `with` block always ends them."""

    def __init__(self, launch: LocustLaunch) -> None:
        self.launch = launch
        self.main: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        # A port picked by bind(0) comes from the range outgoing connections use too, and
        # may be taken before the master binds it: pick a reserved one (runtime/ports.py).
        self._reserved = [] if launch.master_port or not launch.distributed else pick_free_ports(1)
        self.port = launch.master_port or (self._reserved[0] if self._reserved else 0)
        self._logs: list[IO[bytes]] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in [self.main, *self.workers] if p is not None]

    @property
    def log_paths(self) -> list[Path]:
        paths = [self.launch.out_dir / "locust.log"]
        paths += [self.launch.out_dir / f"locust-worker-{i}.log" for i in range(len(self.workers))]
        return paths

    def start(self) -> LocustProcesses:
        launch = self.launch
        launch.out_dir.mkdir(parents=True, exist_ok=True)
        stale_files = [launch.history_path, launch.result_path, launch.initial_stock_path]
        stale_files += [launch.locust_report_path, *launch.locust_csv_paths]
        for stale in stale_files:
            stale.unlink(missing_ok=True)
        env = launch.env()
        self.main = self._spawn(launch.main_command(self.port), env, "locust.log")
        for index in range(launch.workers):
            command = launch.worker_command(self.port)
            self.workers.append(self._spawn(command, env, f"locust-worker-{index}.log"))
        return self

    def _spawn(
        self, command: list[str], env: dict[str, str], log_name: str
    ) -> subprocess.Popen[bytes]:
        log = (self.launch.out_dir / log_name).open("wb")
        self._logs.append(log)
        # A session of its own: Ctrl-C in the terminal reaches the runner, which ends Locust
        # in order (SIGTERM lets Locust write its results) instead of killing it mid-write.
        return subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def poll(self) -> int | None:
        """The main process's exit code, or None while it runs."""
        return None if self.main is None else self.main.poll()

    def wait(self, timeout: float) -> int | None:
        if self.main is None:
            return None
        try:
            return self.main.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM every process still running, then SIGKILL what outlives `grace`."""
        running = [p for p in [self.main, *self.workers] if p is not None and p.poll() is None]
        for process in running:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(timeout=5)
        for log in self._logs:
            log.close()
        self._logs.clear()
        release_ports(self._reserved)

    def tail(self, lines: int = 20) -> str:
        """The last lines of the main process's log (for error messages)."""
        path = self.launch.out_dir / "locust.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> LocustProcesses:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
