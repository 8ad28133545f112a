"""`python -m harness.schemas FILE...`: validate journals and load summaries against the
shipped JSON Schemas; exit 1 naming each problem, 2 for a file that is not one of them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.schemas import DOCUMENTS, UnsupportedVersion, check_version, kind_of, validate_document


def _say(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.schemas",
        description="Validate harness JSON documents (chaos journals, load summary.json) "
        "against the JSON Schemas shipped in the package (see docs/formats.md).",
    )
    parser.add_argument("files", nargs="*", type=Path, help="documents to validate")
    parser.add_argument(
        "--write-generated",
        action="store_true",
        help="rewrite the schemas generated from the models (for harness developers)",
    )
    args = parser.parse_args(argv)
    if args.write_generated:
        from harness.schemas.generate import write_generated

        for path in write_generated():
            _say(f"wrote {path}")
        return 0
    if not args.files:
        parser.error("give at least one FILE (or --write-generated)")
    status = 0
    for path in args.files:
        status = max(status, _validate(path))
    return status


def _validate(path: Path) -> int:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _say(f"{path}: cannot read JSON: {exc}", err=True)
        return 2
    kind = kind_of(document)
    if kind is None:
        fields = " or ".join(spec.version_field for spec in DOCUMENTS.values())
        _say(f"{path}: not a harness document (no {fields})", err=True)
        return 2
    try:
        version = check_version(document, kind, source=str(path))
    except UnsupportedVersion as exc:
        _say(str(exc), err=True)
        return 2
    spec = DOCUMENTS[kind]
    if version != spec.current:
        _say(
            f"{path}: {spec.name} version {version}, readable but older than the schema "
            f"(version {spec.current}); not validated",
            err=True,
        )
        return 0
    problems = validate_document(document, kind)
    for problem in problems:
        _say(f"{path}: {problem}", err=True)
    if not problems:
        _say(f"{path}: valid {spec.name} (version {version})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
