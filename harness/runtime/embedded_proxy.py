"""The embedded fault proxy, run as a process of its own (`python -m harness.faultproxy`).

Its own process group, like every service: a SIGKILL of the harness leaves it to the next
start's stale-run cleanup instead of taking it down half-way, and a crash of the proxy
cannot take the harness with it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harness.runtime.errors import StartupError
from harness.runtime.ports import LOOPBACK, port_is_listening

if TYPE_CHECKING:  # `harness logs` names the proxy without importing what runs it
    from harness.faults import ToxiproxyClient
    from harness.runtime.processes import ManagedProcess

__all__ = ["FAULT_PROXY_LOG", "FAULT_PROXY_NAME", "SEED_ENV", "spawn_fault_proxy", "wait_api"]

FAULT_PROXY_NAME = "fault-proxy"
FAULT_PROXY_LOG = f"{FAULT_PROXY_NAME}.log"
SEED_ENV = "HARNESS_FAULT_SEED"  # seeds toxicity draws and jitter, for reproducible runs


def spawn_fault_proxy(*, run_dir: Path, port: int, run_id: str) -> ManagedProcess:
    from harness.runtime.processes import ManagedProcess
    from harness.runtime.rundir import RUN_ID_ENV

    argv = [sys.executable, "-m", "harness.faultproxy", "--host", LOOPBACK, "--port", str(port)]
    seed = os.environ.get(SEED_ENV)
    if seed:
        argv += ["--seed", seed]
    env = {RUN_ID_ENV: run_id}
    return ManagedProcess.spawn(argv, env=env, cwd=run_dir, log_path=run_dir / FAULT_PROXY_LOG)


def wait_api(client: ToxiproxyClient, process: ManagedProcess | None, *, timeout: float) -> None:
    """Wait until the proxy's API answers; raises `StartupError` with its log tail."""
    from harness.runtime.processes import tail_lines

    deadline = time.monotonic() + timeout
    while not (port_is_listening(client.port, host=client.host) and client.is_up()):
        reason = None
        if process is not None and process.exit_status() is not None:
            reason = process.exit_status()
        elif time.monotonic() >= deadline:
            reason = f"API at {client.url} did not answer within {timeout:g} s"
        if reason is not None:
            tail = tail_lines(process.record.log_path) if process is not None else []
            raise StartupError(
                "the fault proxy did not start",
                failures={FAULT_PROXY_NAME: reason},
                log_tails={FAULT_PROXY_NAME: tail},
            )
        time.sleep(0.03)
