"""What the HTTP toxics share: which requests they match, how many, and how often.

An HTTP toxic is not a stage of a connection's byte chain: while one is installed, the proxy
parses the HTTP/1.x requests and responses of each connection (see `harness.faultproxy.http`)
and asks every HTTP toxic, in the order the API lists them, whether it takes a request:

* `method`: the request method, any case (empty: any method);
* `path`: a regular expression searched in the request target, query included (empty: any);
* `first`: only the first N requests it takes, counted over the whole proxy (0: no limit);
* the toxic's `toxicity`: the probability it takes a matching request (a seeded draw per
  request). `stream` is accepted and shown as for any toxic; it does not change the effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from harness.faultproxy.toxics.base import BadAttribute, Toxic, go_int64, go_string

__all__ = ["HttpToxic"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


@dataclass(frozen=True, slots=True)
class HttpToxic(Toxic):
    """Base of the HTTP toxics: the request match shared by all of them."""

    HTTP: ClassVar[bool] = True

    method: str = go_string()
    path: str = go_string()
    first: int = go_int64()

    def validate(self) -> None:
        if self.method and not _TOKEN.match(self.method):
            raise BadAttribute("method", f"{self.method!r} is not an HTTP method")
        try:
            re.compile(self.path)
        except re.error as exc:
            raise BadAttribute("path", f"invalid regular expression: {exc}") from None
        if self.first < 0:
            raise BadAttribute("first", f"must be 0 (every request) or more, got {self.first}")

    def matches(self, method: str, target: str) -> bool:
        """Whether this toxic is about the request `method target`."""
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, target) is not None
