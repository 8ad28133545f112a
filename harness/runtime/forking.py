"""The parent's side of the fork server (see `forkserver.py`): send it the services, adopt
the children it reports."""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.runtime import forkserver
from harness.runtime.errors import StartupError
from harness.runtime.processes import ManagedProcess, tail_lines

__all__ = ["SpawnSpec", "fork_all", "forkable"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpawnSpec:
    key: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path


def forkable(argv: Sequence[str]) -> bool:
    """True for `[this python, "-m", module, ...]`: what the fork server can run."""
    return len(argv) >= 3 and argv[0] == sys.executable and argv[1] == "-m"


def fork_all(
    specs: Sequence[SpawnSpec],
    *,
    preload: Sequence[str],
    server_log: Path,
    timeout: float,
    adopted: Callable[[str, ManagedProcess], None],
) -> None:
    """Start every spec through one fork server; `adopted(key, process)` as each one starts.

    Raises `StartupError` (with the server's log) if some spec got no process in time.
    """
    request = {
        "preload": list(preload),
        "processes": [
            {
                "key": s.key,
                "argv": s.argv,
                "env": s.env,
                "cwd": str(s.cwd),
                "log_path": str(s.log_path),
            }
            for s in specs
        ],
    }
    with open(server_log, "wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, forkserver.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    stdin, stdout = server.stdin, server.stdout
    if stdin is None or stdout is None:  # cannot happen with PIPE; keeps the types honest
        raise StartupError("the fork server has no pipes")
    stdin.write(json.dumps(request).encode())
    stdin.close()
    by_key = {s.key: s for s in specs}
    pending = set(by_key)
    deadline = time.monotonic() + timeout
    try:
        for line in _lines(stdout, deadline):
            message = json.loads(line)
            if "preload_error" in message:
                log.warning("fork server could not preload %s", message["preload_error"])
                continue
            spec = by_key[message["key"]]
            process = ManagedProcess.adopt(
                message["pid"], argv=spec.argv, env=spec.env, cwd=spec.cwd, log_path=spec.log_path
            )
            pending.discard(spec.key)
            adopted(spec.key, process)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
    if pending:
        raise StartupError(
            "the fork server did not start every service",
            failures={key: "not started by the fork server" for key in sorted(pending)},
            log_tails={key: tail_lines(server_log) for key in sorted(pending)},
        )


def _lines(stream: IO[bytes], deadline: float) -> Iterator[bytes]:
    """Lines from the server's stdout as they come, until EOF or the deadline."""
    fd = stream.fileno()
    buffer = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from (line for line in complete if line.strip())
