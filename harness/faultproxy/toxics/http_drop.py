"""`http_drop`: forwards matching requests, then closes the client's connection when the
response begins, without passing any of it on: the upstream did the work, the caller never
hears of it (a lost response). Responses to earlier requests on the connection are
delivered first; the connection to the upstream is closed too."""

from __future__ import annotations

from dataclasses import dataclass

from harness.faultproxy.toxics.http_base import HttpToxic

__all__ = ["HttpDropToxic"]


@dataclass(frozen=True, slots=True)
class HttpDropToxic(HttpToxic):
    TYPE = "http_drop"
    GO_NAME = "HttpDropToxic"
