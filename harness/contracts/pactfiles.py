"""Pact files on disk: who the consumer and provider are, and what interactions they hold.

Read once into small frozen models, so the rest of the harness (coverage, verification,
publishing) never handles raw JSON. Pact specification V2-V4 files are understood: V4 puts
HTTP and message interactions in `interactions` with a `type`, V3 message pacts use
`messages`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Interaction", "PactFile", "PactFileError", "load_pacts", "read_pact"]

InteractionKind = Literal["http", "message"]


class PactFileError(ValueError):
    """A pact file or directory cannot be used; the message names it and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Interaction(_Frozen):
    description: str
    kind: InteractionKind
    states: tuple[str, ...] = ()


class PactFile(_Frozen):
    path: Path
    consumer: str
    provider: str
    interactions: tuple[Interaction, ...]

    @property
    def pair(self) -> str:
        """`orders->inventory`: the edge this pact covers (consumer calls provider)."""
        return f"{self.consumer}->{self.provider}"

    @property
    def has_messages(self) -> bool:
        return any(i.kind == "message" for i in self.interactions)

    @property
    def has_http(self) -> bool:
        return any(i.kind == "http" for i in self.interactions)

    def content(self) -> bytes:
        return self.path.read_bytes()


def read_pact(path: Path) -> PactFile:
    """Parse one pact file; raises `PactFileError` naming the file and what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PactFileError(f"{path}: cannot read the pact file: {exc.strerror}") from None
    except ValueError as exc:
        raise PactFileError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PactFileError(f"{path}: expected a JSON object (a pact), got {_kind(document)}")
    return PactFile(
        path=path,
        consumer=_name(document, "consumer", path),
        provider=_name(document, "provider", path),
        interactions=tuple(_interactions(document, path)),
    )


def load_pacts(directory: Path) -> list[PactFile]:
    """Every `*.json` pact in `directory`, sorted by file name."""
    if not directory.is_dir():
        raise PactFileError(f"{directory}: no such pact directory")
    pacts = [read_pact(path) for path in sorted(directory.glob("*.json"))]
    if not pacts:
        raise PactFileError(f"{directory}: no pact files (*.json) in this directory")
    return pacts


def _name(document: dict[str, Any], role: str, path: Path) -> str:
    party = document.get(role)
    name = party.get("name") if isinstance(party, dict) else None
    if not isinstance(name, str) or not name:
        raise PactFileError(f"{path}: {role}.name: expected the {role}'s name (a string)")
    return name


def _interactions(document: dict[str, Any], path: Path) -> list[Interaction]:
    found: list[Interaction] = []
    for key in ("interactions", "messages"):
        items = document.get(key, [])
        if not isinstance(items, list):
            raise PactFileError(f"{path}: {key}: expected a list, got {_kind(items)}")
        for index, item in enumerate(items):
            found.append(_interaction(item, key, index, path))
    return found


def _interaction(item: Any, key: str, index: int, path: Path) -> Interaction:
    where = f"{path}: {key}[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("description"), str):
        raise PactFileError(f"{where}: expected an object with a 'description'")
    kind: InteractionKind = "http"
    if key == "messages" or "Messages" in str(item.get("type", "")):
        kind = "message"
    states = item.get("providerStates") or (
        [{"name": item["providerState"]}] if "providerState" in item else []
    )
    names = tuple(s["name"] for s in states if isinstance(s, dict) and "name" in s)
    return Interaction(description=item["description"], kind=kind, states=names)


def _kind(value: Any) -> str:
    return type(value).__name__
