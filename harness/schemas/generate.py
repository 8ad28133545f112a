"""The summary schema is generated from the `LoadSummary` model, so the two cannot drift;
`python -m harness.schemas --write-generated` rewrites it (a test fails when it is stale)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.schemas import DOCUMENTS

__all__ = ["generated_schemas", "write_generated"]

_ID = "https://example.invalid/harness/schemas/"


def summary_schema() -> dict[str, Any]:
    from harness.load.summary import LoadSummary

    spec = DOCUMENTS["summary"]
    schema = LoadSummary.model_json_schema(mode="serialization")
    schema["properties"][spec.version_field] = {
        "const": spec.current,
        "description": "the document's format version",
    }
    schema["required"] = sorted({*schema.get("required", []), spec.version_field})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID + spec.schema_file,
        **schema,
        "title": "harness load summary (summary.json)",
    }


def generated_schemas() -> dict[str, dict[str, Any]]:
    """Schema file name -> schema, for the schemas derived from models."""
    return {DOCUMENTS["summary"].schema_file: summary_schema()}


def write_generated(directory: Path | None = None) -> list[Path]:
    directory = directory or Path(__file__).parent
    written = []
    for name, schema in generated_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
