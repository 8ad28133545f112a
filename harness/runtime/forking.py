"""The parent's side of the fork server (see `forkserver.py`): send it the services, adopt
the children it reports, and keep it for the run so a restart forks from it too."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harness.runtime import forkserver
from harness.runtime.errors import StartupError
from harness.runtime.processes import ManagedProcess, tail_lines
from harness.runtime.rundir import ProcessRecord

__all__ = ["ForkServer", "SpawnSpec", "forkable"]

log = logging.getLogger(__name__)

REFORK_TIMEOUT = 10.0  # seconds for the server to report a restarted child (a fork takes ms)
CLOSE_TIMEOUT = 2.0  # seconds for the server to exit once its stdin is closed


@dataclass(frozen=True, slots=True)
class SpawnSpec:
    key: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    append_log: bool = False  # a restart appends to the service's log

    def message(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "argv": self.argv,
            "env": self.env,
            "cwd": str(self.cwd),
            "log_path": str(self.log_path),
            "append_log": self.append_log,
        }


def forkable(argv: Sequence[str]) -> bool:
    """True for `[this python, "-m", module, ...]`: what the fork server can run."""
    return len(argv) >= 3 and argv[0] == sys.executable and argv[1] == "-m"


class ForkServer:
    """One fork server per run: started at once (it preloads meanwhile), its first children
    collected later, then kept until `close` so that `refork` can restart a service from the
    preloaded interpreter instead of a cold one.

    Between `start` and `collect` the caller can do other start-up work (create the proxies)
    while the server imports the preloaded modules.
    """

    def __init__(
        self,
        specs: Sequence[SpawnSpec],
        *,
        preload: Sequence[str],
        server_log: Path,
        env: Mapping[str, str] | None = None,
    ):
        """Start the server (it waits for `begin`); `env` is added to its environment and so
        inherited by every child it forks."""
        self._specs = {s.key: s for s in specs}
        self._preload = list(preload)
        self._log = server_log
        self._lock = threading.Lock()
        self._buffer = b""
        argv = [sys.executable, forkserver.__file__]
        extra_env = {"PYTHONUNBUFFERED": "1", **(env or {})}
        with open(server_log, "wb") as log_file:
            self._server = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env={**os.environ, **extra_env},
                start_new_session=True,
            )
        stdin, stdout = self._server.stdin, self._server.stdout
        if stdin is None or stdout is None:  # cannot happen with PIPE; keeps the types honest
            raise StartupError("the fork server has no pipes")
        self._stdin, self._stdout = stdin, stdout
        self.process = ManagedProcess(
            ManagedProcess.adopt(
                self._server.pid, argv=argv, env=extra_env, cwd=Path.cwd(), log_path=server_log
            ).record,
            self._server,
        )

    def begin(self) -> None:
        """Preload and fork the services: call once the server's `process` is on record."""
        self._send(
            {"preload": self._preload, "processes": [s.message() for s in self._specs.values()]}
        )

    @property
    def alive(self) -> bool:
        return self._server.poll() is None and not self._stdin.closed

    def collect(self, *, timeout: float, adopted: Callable[[str, ManagedProcess], None]) -> None:
        """`adopted(key, process)` for each child as it starts; `StartupError` if some don't."""
        pending = set(self._specs)
        deadline = time.monotonic() + timeout
        with self._lock:
            while pending:
                message = self._next_message(deadline)
                if message is None:
                    break
                process = self._adopt(message)
                if process is not None:
                    pending.discard(message["key"])
                    adopted(message["key"], process)
        if pending:
            self._stop_server()  # the caller's `abort` collects what it forked meanwhile
            raise StartupError(
                "the fork server did not start every service",
                failures={key: "not started by the fork server" for key in sorted(pending)},
                log_tails={key: tail_lines(self._log) for key in sorted(pending)},
            )

    def refork(self, key: str, record: ProcessRecord) -> ManagedProcess | None:
        """The process `record` describes, forked again from the preloaded server (same argv,
        env, cwd; its log appended to). None when that cannot be done (the server is gone or
        did not answer in time, or the command is not `python -m ...`): spawn it instead."""
        if not forkable(record.argv):
            return None
        spec = SpawnSpec(
            key=key,
            argv=list(record.argv),
            env=dict(record.env),
            cwd=Path(record.cwd),
            log_path=Path(record.log_path),
            append_log=True,
        )
        with self._lock:
            if not self.alive:
                return None
            self._specs[key] = spec
            try:
                self._send({"processes": [spec.message()]})
            except OSError:  # the server died in between
                return None
            deadline = time.monotonic() + REFORK_TIMEOUT
            while (message := self._next_message(deadline)) is not None:
                if message.get("key") == key:
                    return self._adopt(message)
        log.warning("the fork server did not fork %s in time; stopping it", key)
        self.close()
        return None

    def abort(self) -> list[ManagedProcess]:
        """Stop forking; the children already started but not yet collected, to stop."""
        with self._lock:
            self._stop_server()
            orphans = []
            while (message := self._next_message(time.monotonic() + 1.0)) is not None:
                process = self._adopt(message)
                if process is not None:
                    orphans.append(process)
            self._stdout.close()
            return orphans

    def close(self) -> None:
        """Let the server exit (its stdin closes); kill it if it does not. The children it
        forked live on: they belong to the run."""
        with self._lock:
            _close_quietly(self._stdin)
            try:
                self._server.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            self._stdout.close()

    def _stop_server(self) -> None:
        if self._server.poll() is None:
            self._server.kill()
        self._server.wait()
        _close_quietly(self._stdin)

    def _send(self, request: dict[str, Any]) -> None:
        self._stdin.write(json.dumps(request).encode() + b"\n")
        self._stdin.flush()

    def _adopt(self, message: dict[str, Any]) -> ManagedProcess | None:
        if "preload_error" in message:
            log.warning("fork server could not preload %s", message["preload_error"])
            return None
        if "error" in message:
            log.warning("fork server could not start %s: %s", message["key"], message["error"])
            return None
        spec = self._specs[message["key"]]
        return ManagedProcess.adopt(
            message["pid"], argv=spec.argv, env=spec.env, cwd=spec.cwd, log_path=spec.log_path
        )

    def _next_message(self, deadline: float) -> dict[str, Any] | None:
        """The server's next JSON line as it comes; None at EOF or once `deadline` passed.

        Bytes after the last newline stay buffered for the next call."""
        while not self._stdout.closed:
            line, newline, rest = self._buffer.partition(b"\n")
            if newline:
                self._buffer = rest
                if line.strip():
                    message: dict[str, Any] = json.loads(line)
                    return message
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            fd = self._stdout.fileno()
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        return None


def _close_quietly(stream: IO[bytes]) -> None:
    with contextlib.suppress(OSError):  # a broken pipe: the server is gone already
        stream.close()
