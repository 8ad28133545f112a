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

__all__ = ["ForkServer", "SpawnSpec", "forkable"]

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


class ForkServer:
    """One fork server: started at once (it preloads meanwhile), its children collected later.

    Between `start` and `collect` the caller can do other start-up work (create the proxies)
    while the server imports the preloaded modules.
    """

    def __init__(self, specs: Sequence[SpawnSpec], *, preload: Sequence[str], server_log: Path):
        self._specs = {s.key: s for s in specs}
        self._log = server_log
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
            self._server = subprocess.Popen(
                [sys.executable, forkserver.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        stdin, stdout = self._server.stdin, self._server.stdout
        if stdin is None or stdout is None:  # cannot happen with PIPE; keeps the types honest
            raise StartupError("the fork server has no pipes")
        self._stdout = stdout
        stdin.write(json.dumps(request).encode())
        stdin.close()

    def collect(self, *, timeout: float, adopted: Callable[[str, ManagedProcess], None]) -> None:
        """`adopted(key, process)` for each child as it starts; `StartupError` if some don't."""
        pending = set(self._specs)
        try:
            for key, process in self._children(time.monotonic() + timeout):
                pending.discard(key)
                adopted(key, process)
        finally:
            self._stop_server()
        if pending:
            raise StartupError(
                "the fork server did not start every service",
                failures={key: "not started by the fork server" for key in sorted(pending)},
                log_tails={key: tail_lines(self._log) for key in sorted(pending)},
            )

    def abort(self) -> list[ManagedProcess]:
        """Stop forking; the children already started, for the caller to stop."""
        self._stop_server()
        return [process for _, process in self._children(time.monotonic() + 1.0)]

    def _stop_server(self) -> None:
        if self._server.poll() is None:
            self._server.kill()
        self._server.wait()

    def _children(self, deadline: float) -> Iterator[tuple[str, ManagedProcess]]:
        for line in _lines(self._stdout, deadline):
            message = json.loads(line)
            if "preload_error" in message:
                log.warning("fork server could not preload %s", message["preload_error"])
                continue
            spec = self._specs[message["key"]]
            process = ManagedProcess.adopt(
                message["pid"], argv=spec.argv, env=spec.env, cwd=spec.cwd, log_path=spec.log_path
            )
            yield spec.key, process


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
