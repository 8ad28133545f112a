"""The framer cuts a byte stream into HTTP messages exactly where they end, however the
stream is split into reads (pipelining, bodies split anywhere, responses to HEAD)."""

from __future__ import annotations

import itertools

import httptools
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.faultproxy.httpflow import Framer, RequestFramer, _Message

REQUESTS = [
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
    b"HEAD /d HTTP/1.1\r\nHost: x\r\n\r\n",
]
RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 203 Non-Authoritative Information\r\nContent-Length: 99\r\n\r\n",  # to HEAD
]


def cut(framer: Framer, stream: bytes, splits: list[int]) -> list[bytes]:
    """Feed `stream` in the pieces `splits` gives; return the bytes of each message."""
    cuts: list[tuple[_Message, bytearray]] = []
    points = sorted({0, len(stream), *(s % (len(stream) + 1) for s in splits)})
    for start, end in itertools.pairwise(points):
        for message, part in framer.feed(stream[start:end]):
            assert message is not None
            if not cuts or cuts[-1][0] is not message:
                cuts.append((message, bytearray()))
            cuts[-1][1].extend(part)
    return [bytes(data) for _, data in cuts]


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(REQUESTS) - 1), min_size=1, max_size=6),
    splits=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_requests_are_cut_at_their_boundaries(picks: list[int], splits: list[int]) -> None:
    wanted = [REQUESTS[i] for i in picks]
    framer = RequestFramer(lambda m: False)
    assert cut(framer, b"".join(wanted), splits) == wanted


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(RESPONSES) - 1), min_size=1, max_size=6),
    splits=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_responses_are_cut_at_their_boundaries(picks: list[int], splits: list[int]) -> None:
    wanted = [RESPONSES[i] for i in picks]

    def ends_at_head(message: _Message) -> bool:
        return message.status == 203  # stands for "the request was HEAD": no body

    framer = Framer(httptools.HttpResponseParser, ends_at_head)
    assert cut(framer, b"".join(wanted), splits) == wanted


def test_heads_are_parsed_for_the_toxics() -> None:
    seen: list[tuple[str, bytes, bool]] = []

    def on_head(message: _Message) -> bool:
        seen.append((message.method, message.url, message.keep_alive))
        return False

    framer = RequestFramer(on_head)
    framer.feed(b"DELETE /x?y=1 HTTP/1.1\r\nHo")
    framer.feed(b"st: a\r\nConnection: close\r\n\r\n")
    assert seen == [("DELETE", b"/x?y=1", False)]
