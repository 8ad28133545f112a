"""Per-path traffic counts of chaos runs, as one table: experiment x request name.

Reads the JSON journals `harness chaos run` writes (their `traffic.paths`: per request
name `total`, `ok`, `error`) and prints a Markdown table, one row per experiment (the
newest journal of each when a folder holds several runs of it), one column per path.
A cell is `total` or, when some answers were not the expected one, `total (error err)`.

    python scripts/traffic_paths.py runs/chaos
    python scripts/traffic_paths.py runs/chaos/*.json --out bench/traffic-paths.md

Exit status: 0 with a table, 1 when no journal with traffic was found, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    experiment: str  # the experiment file's stem
    status: str
    seed: int | None
    duration_s: float
    paths: Mapping[str, Mapping[str, Any]]


def journal_files(arguments: Iterable[Path]) -> list[Path]:
    """Files as given; folders become their `*.json` files (recursively)."""
    found: list[Path] = []
    for path in arguments:
        if path.is_dir():
            found += sorted(path.rglob("*.json"))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def read_row(path: Path) -> Row | None:
    """One journal's row; None for a JSON file that is not a chaos journal with traffic."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "experiment" not in data:
        return None
    paths = (data.get("traffic") or {}).get("paths") or {}
    if not paths:
        return None
    source = str((data.get("experiment") or {}).get("source") or path.name)
    return Row(
        experiment=Path(source).stem,
        status=str(data.get("status", "")),
        seed=data.get("seed"),
        duration_s=float(data.get("duration") or 0.0),
        paths=paths,
    )


def newest_per_experiment(files: Sequence[Path]) -> list[Row]:
    """One row per experiment: from the last file of each by name (journal names end in
    their UTC start time, so the last in name order is the newest)."""
    rows: dict[str, Row] = {}
    for path in sorted(files, key=lambda p: p.name):
        row = read_row(path)
        if row is not None:
            rows[row.experiment] = row
    return [rows[name] for name in sorted(rows)]


def _cell(counts: Mapping[str, Any] | None) -> str:
    if not counts:
        return "-"
    total, error = int(counts.get("total", 0)), int(counts.get("error", 0))
    return f"{total} ({error} err)" if error else str(total)


def render(rows: Sequence[Row]) -> str:
    names = sorted({name for row in rows for name in row.paths})
    lines = [
        "| experiment | status | seed | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|---|" + "---:|" * len(names),
    ]
    for row in rows:
        cells = " | ".join(_cell(row.paths.get(name)) for name in names)
        lines.append(f"| {row.experiment} | {row.status} | {row.seed} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Per-path traffic counts (experiment x request name) from chaos journals."
    )
    parser.add_argument("journals", nargs="+", type=Path, help="journal files or folders")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    try:
        files = journal_files(args.journals)
    except FileNotFoundError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    rows = newest_per_experiment(files)
    if not rows:
        sys.stderr.write("no chaos journal with traffic found in the given files\n")
        return 1
    table = render(rows)
    sys.stdout.write(table)
    if args.out is not None:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
