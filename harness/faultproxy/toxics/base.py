"""What every toxic shares: its attributes as a frozen dataclass, and the Go struct they
decode from and print as.

A toxic's dataclass fields are its JSON attributes in the order of the real server's Go
struct (that order is the key order of `"attributes"` in API answers). Each field names its Go
type through `go_int64()` / `go_int()`, which also gives Go's default of 0 for an omitted
attribute. Instances are immutable: an update builds a new one and the links re-run it, as the
real server swaps `toxic.Toxic` and restarts the stub.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, ClassVar, Self

from harness.faultproxy.gojson import INT, INT64, STRING, GoField, GoMap, GoStruct, GoType
from harness.faultproxy.stream import Stub

__all__ = ["BadAttribute", "Toxic", "go_int", "go_int64", "go_string", "go_string_map"]


class BadAttribute(ValueError):
    """An attribute value the toxic cannot work with; the API answers 400 naming it."""

    def __init__(self, attribute: str, problem: str) -> None:
        super().__init__(f"attribute {attribute}: {problem}")
        self.attribute = attribute


def go_int64(default: int = 0) -> Any:
    """A Go `int64` attribute (default 0, as Go's zero value)."""
    return dataclasses.field(default=default, metadata={"go": INT64})


def go_string() -> Any:
    """A Go `string` attribute (default "")."""
    return dataclasses.field(default="", metadata={"go": STRING})


def go_string_map() -> Any:
    """A Go `map[string]string` attribute (default empty)."""
    return dataclasses.field(default_factory=dict, metadata={"go": GoMap(STRING)})


def go_int() -> Any:
    """A Go `int` attribute (default 0)."""
    return dataclasses.field(default=0, metadata={"go": INT})


class Toxic:
    """Base of the toxic dataclasses."""

    __slots__ = ()

    TYPE: ClassVar[str]  # the API's "type"
    GO_NAME: ClassVar[str]  # the Go struct's name, as error messages print it
    BUFFER_SIZE: ClassVar[int] = 0  # capacity of the channel feeding this toxic
    HAS_CLEANUP: ClassVar[bool] = False  # cleanup() must run when the toxic is removed
    RESETS_PEER: ClassVar[bool] = False  # present at accept: the sockets get SO_LINGER 0
    HTTP: ClassVar[bool] = False  # acts on HTTP requests (not a stage of the byte chain)

    @classmethod
    @cache
    def go_struct(cls) -> GoStruct:
        fields = tuple(
            GoField(f.name, _go_type(f))
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        return GoStruct(f"toxics.{cls.GO_NAME}", cls.GO_NAME, fields)

    @classmethod
    def from_attributes(cls, values: dict[str, Any]) -> Self:
        return cls(**values)

    def with_attributes(self, values: dict[str, Any]) -> Self:
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def attributes(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }

    def validate(self) -> None:
        """Raise `BadAttribute` for an attribute value this toxic cannot use (the real
        server's toxics accept any value; the HTTP toxics check theirs)."""

    def new_state(self) -> object:
        """Per-link state that survives updates of the toxic (None: stateless)."""
        return None

    def cleanup(self, stub: Stub) -> None:
        """Called on removal when `HAS_CLEANUP`; may close the stub."""

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError


def _go_type(f: dataclasses.Field[Any]) -> GoType:
    go = f.metadata.get("go")
    if not isinstance(go, GoType):
        raise TypeError(f"toxic attribute {f.name} does not name its Go type")
    return go
