"""Process groups: start a service in its own session, signal it, stop it for good.

Every process the runtime starts is the leader of a new session and process group
(`start_new_session=True`), so one `killpg` reaches it and anything it forked (gunicorn's
workers), and a Ctrl-C in the harness's terminal does not reach it: teardown stays in the
harness's hands. A `ManagedProcess` works from the process that started it (it then also
reaps the child) and from any other process that read the run's state file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from harness.runtime.rundir import RUN_ID_ENV, ProcessRecord

__all__ = [
    "ManagedProcess",
    "kill_marked",
    "live_group_members",
    "marked_processes",
    "stop_groups",
    "tail_lines",
]


def tail_lines(path: Path | str, count: int = 20) -> list[str]:
    """The last `count` lines of a log file (empty when it does not exist)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=count)]
    except OSError:
        return []


def same_process(pid: int, create_time: float) -> bool | None:
    """Is the process known by its pid and creation time (`psutil`'s) still running? True:
    yes; False: the pid now belongs to another process; None: gone (a zombie included)."""
    try:
        process = psutil.Process(pid)
        created = process.create_time()
        status = process.status()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    if abs(created - create_time) > 0.05:
        return False
    return None if status == psutil.STATUS_ZOMBIE else True


def live_group_members(pgid: int) -> list[int]:
    """Pids of non-zombie processes in process group `pgid`."""
    members: list[int] = []
    for proc in psutil.process_iter(["status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(proc.pid) == pgid:
                members.append(proc.pid)
    return members


class ManagedProcess:
    """A service (or the fault proxy) as a process group, started from a stored argv/env."""

    def __init__(self, record: ProcessRecord, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.record = record
        self._popen = popen

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | str,
        log_path: Path | str,
        append_log: bool = False,
    ) -> ManagedProcess:
        """Start `argv` in a new session; stdout and stderr go to `log_path`.

        `env` is applied on top of this process's environment and stored in the record,
        so a restart (from any process) starts the same command with the same settings.
        """
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        with open(log_path, "ab" if append_log else "wb") as log:
            popen = subprocess.Popen(
                list(argv),
                cwd=str(cwd),
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Recorded as any group leader is; keeping the Popen also reaps it and gives its code.
        adopted = cls.adopt(popen.pid, argv=argv, env=env, cwd=cwd, log_path=log_path)
        return cls(adopted.record, popen)

    @classmethod
    def adopt(
        cls,
        pid: int,
        *,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path | str,
        log_path: Path | str,
    ) -> ManagedProcess:
        """A process started elsewhere (the fork server) as the leader of its own group."""
        try:
            created = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:  # died at once; its exit code or log tells why
            created = 0.0
        record = ProcessRecord(
            pid=pid,
            pgid=pid,
            create_time=created,
            argv=list(argv),
            env=dict(env),
            cwd=str(cwd),
            log_path=str(log_path),
        )
        return cls(record)

    def respawn(self) -> ManagedProcess:
        """The same command again (same port, same env), appending to the same log."""
        return ManagedProcess.spawn(
            self.record.argv,
            env=self.record.env,
            cwd=self.record.cwd,
            log_path=self.record.log_path,
            append_log=True,
        )

    @property
    def pid(self) -> int:
        return self.record.pid

    def exit_code(self) -> int | None:
        """The leader's exit code when we started it and it exited; else None."""
        return None if self._popen is None else self._popen.poll()

    def exit_status(self) -> str | None:
        """None while alive; else how it ended ("exited with code 1", or "exited")."""
        if self.is_alive():
            return None
        code = self.exit_code()
        return "exited" if code is None else f"exited with code {code}"

    def is_alive(self) -> bool:
        """True while any process of the group is alive (zombies do not count)."""
        if self._popen is not None and self._popen.poll() is None:
            return True
        ours = same_process(self.record.pid, self.record.create_time)  # the group's leader
        if ours is True:
            return True
        if ours is False:  # the pid was reused, so the group it led is long empty
            return False
        return bool(live_group_members(self.record.pgid))

    def signal(self, sig: signal.Signals) -> bool:
        """Send `sig` to the whole group; False when the group no longer exists."""
        if same_process(self.record.pid, self.record.create_time) is False:  # pid reused
            return False
        try:
            os.killpg(self.record.pgid, sig)
        except ProcessLookupError:
            return False
        return True

    def wait_gone(self, timeout: float) -> bool:
        """Wait until no process of the group is alive; True if it happened in time."""
        deadline = time.monotonic() + timeout
        while self.is_alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def kill(self, *, timeout: float = 5.0) -> bool:
        """SIGKILL the group and wait for it to be gone."""
        self.signal(signal.SIGKILL)
        return self.wait_gone(timeout)


def stop_groups(processes: Iterable[ManagedProcess], *, grace: float = 3.0) -> list[ManagedProcess]:
    """Stop every group: SIGTERM (and SIGCONT, for paused ones), then SIGKILL after `grace`.

    All groups are signalled before any is waited for. Returns the groups still alive
    after SIGKILL (normally none).
    """
    pending = [p for p in processes if p.is_alive()]
    for proc in pending:
        proc.signal(signal.SIGTERM)
        proc.signal(signal.SIGCONT)  # a stopped process only acts on SIGTERM once continued
    deadline = time.monotonic() + grace
    for proc in pending:
        proc.wait_gone(max(0.0, deadline - time.monotonic()))
    survivors = [p for p in pending if p.is_alive()]
    for proc in survivors:
        proc.signal(signal.SIGKILL)
    return [p for p in survivors if not p.wait_gone(5.0)]


def marked_processes(run_id: str) -> list[psutil.Process]:
    """Live processes whose environment carries the run's mark (`RUN_ID_ENV`).

    They include what the state file may not know: a child forked in the instant before its
    pid was recorded, and anything a service forked. Processes of other users are skipped.
    """
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(RUN_ID_ENV) == run_id and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def kill_marked(run_id: str, *, timeout: float = 5.0) -> tuple[int, list[str]]:
    """SIGKILL every process that still carries the run's mark.

    Returns how many were found, and a description of each that survived.
    """
    marked = marked_processes(run_id)
    for proc in marked:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _, alive = psutil.wait_procs(marked, timeout=timeout)
    survivors = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return len(marked), [f"process {p.pid} ({' '.join(_argv(p)[:4])} ...)" for p in survivors]


def _argv(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return ["?"]
