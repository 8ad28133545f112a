"""`Edge`: a call from one service to another, `orders -> payments`, parsed once.

Experiments, load profiles, the fault schedule, the metrics timeline and the probes name
edges as text (`'orders -> payments'` or `'orders->payments'`); `Edge.parse` reads that
text once, and the rest of the harness passes the typed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

__all__ = ["Edge", "EdgeField"]

_ARROW = re.compile(r"^\s*([^\s>-][^>]*?)\s*->\s*([^\s>-][^>]*?)\s*$")


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    """The caller `source` calls `target`; its name is `source->target`."""

    source: str
    target: str

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str) -> Edge:
        """`'orders -> payments'` or `'orders->payments'`; ValueError saying what is wrong."""
        match = _ARROW.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"expected an edge as 'caller -> callee', got {text!r}")
        return cls(match.group(1), match.group(2))


def _validate(value: Any) -> Edge:
    if isinstance(value, Edge):
        return value
    if isinstance(value, str):
        return Edge.parse(value)
    raise ValueError(f"expected an edge as 'caller -> callee', got {value!r}")


#: A pydantic field holding an `Edge`, written and read back as `'source->target'`.
EdgeField = Annotated[Edge, PlainValidator(_validate), PlainSerializer(str, return_type=str)]
