"""How gunicorn serves payments: gthread, with silent new connections parked in the poller.

gunicorn 27's gthread worker hands every new connection to a thread at once, and the thread
waits up to 5 s for the request's first bytes before giving the connection back to the
poller. Eight connections that send nothing (a fault proxy that opened its upstream side
under a latency toxic, a client that connected and stalled) held all eight threads, and
payments answered nobody for 5 s. `ParkingThreadWorker` registers a new connection with the
poller instead, as kept-alive connections already are: it takes a thread only once it has
bytes to read, so idle connections cost a file descriptor, not a thread.

Kept-alive connections stay open `KEEPALIVE_SECONDS`, longer than the shop's clients keep an
idle one (httpx: 5 s), so the client always closes first. A server that closes first
(gunicorn's default is 2 s) races the client's next request on that connection, which then
fails on the wire for no fault at all. Parked, an idle connection costs no thread.

Select both with `worker_class = WORKER_CLASS` and `keepalive = KEEPALIVE_SECONDS`
(`python -m shop.payments` does), or `--worker-class shop.payments.serving.ParkingThreadWorker
--keep-alive 10` (what `system.toml` passes through `GUNICORN_CMD_ARGS`). It relies on
gthread's internals of gunicorn 27, pinned in the shop's dependencies;
`tests/shop/integration/test_payments_serving.py` holds it to that.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

WORKER_CLASS = "shop.payments.serving.ParkingThreadWorker"
KEEPALIVE_SECONDS = 10
# How long a new connection may stay silent before it is closed. Generous: a parked
# connection holds no thread, and a caller behind a slow proxy may take seconds to send.
FIRST_BYTES_TIMEOUT_SECONDS = 30.0


class ParkingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, except that a new connection waits for its first bytes in the poller."""

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        # gthread's "pending" connections: closed by `murder_pending` once `timeout` passes,
        # handed to a thread (with `data_ready` set, so it does not wait) once readable.
        conn.timeout = time.monotonic() + FIRST_BYTES_TIMEOUT_SECONDS
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )
