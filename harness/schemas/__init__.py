"""The JSON documents the harness writes, their versions and their JSON Schemas.

Each document carries a version field (`journal_version`, `summary_version`) that changes
when a reader of the previous version would misread it. Absolute times are ISO 8601 in
UTC everywhere (`2026-12-05T05:17:10.446296+00:00`); times relative to a run are seconds
(floats) in fields named for it (`offset`, `*_s`, `resolved_at`). The schemas ship inside
the package (`harness/schemas/*.schema.json`) and are documented in docs/formats.md.

    python -m harness.schemas FILE...      # validate documents (kind read from the version field)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = [
    "DOCUMENTS",
    "DocumentKind",
    "UnsupportedVersion",
    "UtcTime",
    "check_version",
    "iso_utc",
    "kind_of",
    "load_schema",
    "parse_time",
    "validate_document",
]


def iso_utc(at: float) -> str:
    """An epoch time (time.time()) as ISO 8601 in UTC."""
    return datetime.fromtimestamp(at, tz=UTC).isoformat()


def parse_time(value: Any) -> Any:
    """An ISO 8601 string (with an offset; naive means UTC) as epoch seconds; numbers (the
    epoch floats of older documents) pass through."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value  # pydantic then names the field and the bad value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return value


#: A wall-clock time: an epoch float in Python, ISO 8601 UTC in JSON; reads either.
UtcTime = Annotated[
    float,
    BeforeValidator(parse_time),
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: its version field, the version written now, the versions
    the harness still reads, and its schema file."""

    name: str
    version_field: str
    current: int
    readable: tuple[int, ...]
    schema_file: str


DOCUMENTS: dict[str, DocumentKind] = {
    "journal": DocumentKind("chaos journal", "journal_version", 2, (1, 2), "journal.schema.json"),
    "summary": DocumentKind("load summary", "summary_version", 2, (1, 2), "summary.schema.json"),
}


class UnsupportedVersion(ValueError):
    """A document of a version this harness cannot read (written by a newer one)."""


def load_schema(kind: str) -> dict[str, Any]:
    """The shipped JSON Schema of `kind` (`journal`, `summary`)."""
    text = resources.files(__name__).joinpath(DOCUMENTS[kind].schema_file).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_version(document: Any, kind: str, *, source: str = "document") -> int:
    """The document's version; raises UnsupportedVersion naming it when this harness
    cannot read it. A document without the field is version 1 (written before it existed)."""
    spec = DOCUMENTS[kind]
    if not isinstance(document, dict):
        raise UnsupportedVersion(f"{source}: not a {spec.name} (expected a JSON object)")
    version = document.get(spec.version_field, 1)
    if version not in spec.readable:
        readable = ", ".join(str(v) for v in spec.readable)
        raise UnsupportedVersion(
            f"{source}: {spec.name} {spec.version_field} {version!r} is not one this harness "
            f"reads ({readable}); it was written by another version of the harness"
        )
    return int(version)


def kind_of(document: Any) -> str | None:
    """Which kind of document this is, from its version field."""
    if isinstance(document, dict):
        for kind, spec in DOCUMENTS.items():
            if spec.version_field in document:
                return kind
    return None


def validate_document(document: Any, kind: str) -> list[str]:
    """Problems of `document` against the current schema of `kind` (empty: valid), each
    as `path: message`. Needs the `jsonschema` package (extras `pipeline`/`dev`)."""
    import jsonschema

    validator_class = jsonschema.validators.validator_for(load_schema(kind))
    validator = validator_class(load_schema(kind), format_checker=validator_class.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"{where}: {error.message}")
    return problems
