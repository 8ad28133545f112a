"""Loopback ports: picking free ones and checking that nobody listens any more.

Ports are picked *below* the kernel's ephemeral range: ports handed out by `bind(0)` or by
outgoing `connect()` come from that range, so a port picked there could be taken by some
other client in the moment between our check and the service's own `bind()`. Below it, only
another process choosing a fixed port can collide, which the random pick makes unlikely.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["LOOPBACK", "pick_free_ports", "port_is_listening", "wait_ports_closed"]

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


def pick_free_ports(count: int, *, exclude: Iterable[int] = ()) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that nothing is bound to right now."""
    taken = set(exclude)
    ports: list[int] = []
    bounds = _candidate_range()
    rng = random.SystemRandom()
    attempts = 0
    while len(ports) < count:
        attempts += 1
        exhausted = bounds is None or attempts > count * 50
        port = _kernel_pick() if exhausted or bounds is None else rng.randint(*bounds)
        if port not in taken and _bindable(port):
            taken.add(port)
            ports.append(port)
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
