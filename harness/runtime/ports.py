"""Loopback ports: picking free ones and checking that nobody listens any more.

Ports are picked *below* the kernel's ephemeral range: ports handed out by `bind(0)` or by
outgoing `connect()` come from that range, so a port picked there could be taken by some
other client in the moment between our check and the service's own `bind()`. Below it, only
another process choosing a fixed port can collide, which the random pick makes unlikely.

Systems started at the same moment (`harness explore --parallel`, `harness chaos run
--parallel`) could still pick the same free port before either binds it. So each pick is
also *reserved*: an exclusive `flock` on `<tmp>/harness-ports-<uid>/<port>.lock`, held by
the picking process until `release_ports` (the runtime's teardown) or its exit, and skipped
by every other harness process picking meanwhile. The kernel drops the lock of a process
that dies, so a crash leaves no stale reservation.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "LOOPBACK",
    "pick_free_ports",
    "port_is_listening",
    "release_ports",
    "reserved_ports",
    "wait_ports_closed",
]

LOOPBACK = "127.0.0.1"
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 15000  # leave well-known and registered low ports alone


def _candidate_range() -> tuple[int, int] | None:
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return (_LOWEST, low - 1) if low - _LOWEST >= 2000 else None


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers will
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


_held: dict[int, int] = {}  # reserved port -> the descriptor holding its lock
_held_lock = threading.Lock()


def _reservations() -> Path:
    path = Path(tempfile.gettempdir()) / f"harness-ports-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _reserve(port: int) -> bool:
    """Take the port's lock for this process; False when another process (or another pick
    of this one) holds it."""
    fd = os.open(_reservations() / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    with _held_lock:
        _held[port] = fd
    return True


def reserved_ports() -> set[int]:
    """The ports this process holds reservations of."""
    with _held_lock:
        return set(_held)


def release_ports(ports: Iterable[int]) -> None:
    """Give back this process's reservations of `ports` (those it does not hold are ignored)."""
    for port in ports:
        with _held_lock:
            fd = _held.pop(port, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock


def pick_free_ports(count: int, *, exclude: Iterable[int] = ()) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that nothing is bound to right now, each reserved
    for this process until `release_ports` (see the module docstring)."""
    taken = set(exclude)
    ports: list[int] = []
    bounds = _candidate_range()
    rng = random.SystemRandom()
    attempts = 0
    while len(ports) < count:
        attempts += 1
        exhausted = bounds is None or attempts > count * 50
        port = _kernel_pick() if exhausted or bounds is None else rng.randint(*bounds)
        if port in taken:
            continue
        taken.add(port)
        if not _reserve(port):
            continue
        if _bindable(port):
            ports.append(port)
        else:
            release_ports([port])
    return ports


def _kernel_pick() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_listening(port: int, *, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port.

    A stopped (SIGSTOP) server still does: the kernel completes the handshake for it. A
    connect that times out (a full backlog) counts as listening too.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except TimeoutError:
        return True
    except OSError:
        return False


def wait_ports_closed(ports: Iterable[int], *, timeout: float = 5.0) -> list[int]:
    """Wait until nothing listens on `ports`; returns the ports still listening at the deadline."""
    pending = sorted(set(ports))
    deadline = time.monotonic() + timeout
    while pending:
        pending = [port for port in pending if port_is_listening(port)]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return pending
