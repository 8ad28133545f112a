"""slicer: chunks are cut into pieces of about average_size ± size_variation bytes."""

from __future__ import annotations

import socket
import time

from .support import Api, connect, embedded_only, send_and_close, tcp_server

PAYLOAD = bytes(range(250)) * 4  # 1000 bytes


def read_pieces(sock: socket.socket) -> list[bytes]:
    pieces = []
    while chunk := sock.recv(65536):
        pieces.append(chunk)
    return pieces


def test_slicer_delivers_the_data_in_delayed_pieces(api: Api) -> None:
    with tcp_server(send_and_close(PAYLOAD)) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(
            proxy,
            "slicer",
            attributes={"average_size": 100, "size_variation": 10, "delay": 20_000},
        )
        with connect(proxy) as sock:
            start = time.monotonic()
            pieces = read_pieces(sock)
            elapsed = time.monotonic() - start
    assert b"".join(pieces) == PAYLOAD
    # At most 110 bytes a piece: 10 or more pieces, 20 ms apart.
    assert len(pieces) >= 3
    assert elapsed >= 0.15


@embedded_only
def test_zero_sizes_slice_into_single_bytes_instead_of_crashing(api: Api) -> None:
    # The real server dies of a stack overflow with these (its default) attributes.
    with tcp_server(send_and_close(PAYLOAD[:40])) as server:
        proxy = api.create_proxy(server.address)
        api.add_toxic(proxy, "slicer", attributes={"delay": 5_000})
        with connect(proxy) as sock:
            pieces = read_pieces(sock)
    assert b"".join(pieces) == PAYLOAD[:40]
    assert len(pieces) >= 10
    assert max(len(piece) for piece in pieces) < 40
