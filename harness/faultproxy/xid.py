"""Request ids in the format of github.com/rs/xid, which the real server sends as
`X-Toxiproxy-Request-Id`: 12 bytes (time, machine, pid, counter) in 20 base32hex characters.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import secrets
import socket
import threading
import time
from pathlib import Path

__all__ = ["new_xid"]


def _machine_id() -> bytes:
    for path in ("/etc/machine-id", "/sys/class/dmi/id/product_uuid"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text:
            return hashlib.md5(text.encode(), usedforsecurity=False).digest()[:3]
    return hashlib.md5(socket.gethostname().encode(), usedforsecurity=False).digest()[:3]


_MACHINE = _machine_id()
_COUNTER = itertools.count(int.from_bytes(secrets.token_bytes(3), "big"))
_LOCK = threading.Lock()


def new_xid() -> str:
    """A new globally unique, time-ordered id such as `cn5s3h2h6g0d8r1n3k6g`."""
    with _LOCK:
        count = next(_COUNTER) & 0xFFFFFF
    raw = (
        int(time.time()).to_bytes(4, "big")
        + _MACHINE
        + (os.getpid() & 0xFFFF).to_bytes(2, "big")
        + count.to_bytes(3, "big")
    )
    return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()
