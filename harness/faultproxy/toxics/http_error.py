"""`http_error`: answers matching requests itself with `status` (default 503), `body` and
`headers`; the upstream never sees them. The answer goes out once the whole request (body
included) has arrived, in order with the responses to earlier requests on the connection, and
the connection stays open when the request allows keep-alive."""

from __future__ import annotations

import http
from dataclasses import dataclass
from typing import Any

from harness.faultproxy.toxics.base import BadAttribute, go_int64, go_string, go_string_map
from harness.faultproxy.toxics.http_base import HttpToxic

__all__ = ["HttpErrorToxic"]

_NO_BODY = (204, 304)
# Framing is the proxy's job: a user's value for these would break the connection.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True)
class HttpErrorToxic(HttpToxic):
    TYPE = "http_error"
    GO_NAME = "HttpErrorToxic"

    status: int = go_int64(503)
    body: str = go_string()
    headers: dict[str, str] = go_string_map()  # noqa: RUF009 - a field() with a factory

    def validate(self) -> None:
        HttpToxic.validate(self)
        if not 200 <= self.status <= 599:
            raise BadAttribute("status", f"must be a final status, 200 to 599, got {self.status}")
        for name, value in self.headers.items():
            if not name or any(c in name for c in " \t\r\n:") or not name.isascii():
                raise BadAttribute("headers", f"{name!r} is not a header name")
            if name.lower() in _FRAMING:
                raise BadAttribute("headers", f"{name} is set by the proxy")
            if "\r" in value or "\n" in value:
                raise BadAttribute("headers", f"the value of {name} holds a line break")

    def attributes(self) -> dict[str, Any]:
        values = HttpToxic.attributes(self)
        values["headers"] = dict(sorted(self.headers.items()))  # Go marshals maps sorted
        return values

    def response(self, *, head: bool, keep_alive: bool) -> bytes:
        """The answer, framed for a request that was (`head`) HEAD and that does or does not
        allow the connection to stay open."""
        body = self.body.encode()
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        names = {name.lower() for name in self.headers}
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if body and "content-type" not in names:
            lines.append("Content-Type: text/plain; charset=utf-8")
        if self.status not in _NO_BODY:
            lines.append(f"Content-Length: {len(body)}")
        if not keep_alive:
            lines.append("Connection: close")
        payload = b"" if head or self.status in _NO_BODY else body
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + payload
