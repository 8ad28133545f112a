"""The matrix: edges x fault classes, each cell pass/fail with its failed checks, journal
and replay command; as `matrix.json`, a terminal table (rich) and an HTML heat map."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.markup import escape
from rich.table import Table

__all__ = [
    "MATRIX_VERSION",
    "CellResult",
    "amplification_by_edge",
    "failed_checks",
    "matrix_table",
    "write_heatmap",
    "write_matrix",
]

MATRIX_VERSION = 1


@dataclass(slots=True)
class CellResult:
    cell: str  # the cell id, as `--only` takes it
    edge: str
    fault: str
    verdict: Literal["pass", "fail"]
    checks: list[dict[str, Any]] = field(default_factory=list)
    journal: str | None = None
    report: str | None = None  # the cell's HTML report, beside its journal
    replay: str = ""
    duration: float = 0.0
    after_cells: int = 0  # cells its system ran before it (0: a fresh system)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration"] = round(self.duration, 1)
        return data


def failed_checks(result: CellResult) -> list[dict[str, Any]]:
    return [check for check in result.checks if check.get("status") not in ("passed",)]


def write_matrix(
    out: Path,
    results: Sequence[CellResult],
    *,
    seed: int,
    not_run: Sequence[str] = (),
    wall_time: float | None = None,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "matrix.json"
    data = {
        "version": MATRIX_VERSION,
        "seed": seed,
        "wall_time": round(wall_time, 1) if wall_time is not None else None,
        "cells": [result.to_dict() for result in results],
        "not_run": list(not_run),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def _axes(results: Sequence[CellResult]) -> tuple[list[str], list[str]]:
    from harness.explore.cells import FAULT_CLASSES

    order = list(FAULT_CLASSES)
    edges = sorted(dict.fromkeys(result.edge for result in results))
    faults = sorted(
        dict.fromkeys(result.fault for result in results),
        key=lambda fault: (order.index(fault) if fault in order else len(order), fault),
    )
    return edges, faults


def matrix_table(results: Sequence[CellResult]) -> Table:
    """Edges as rows, fault classes as columns; a failed cell names its first failed check."""
    edges, faults = _axes(results)
    by_key = {(r.edge, r.fault): r for r in results}
    table = Table(title="harness explore", title_justify="left")
    table.add_column("edge", no_wrap=True)
    for fault in faults:
        table.add_column(fault, overflow="fold")
    for edge in edges:
        row = [edge]
        for fault in faults:
            result = by_key.get((edge, fault))
            if result is None:
                row.append("")
            elif result.verdict == "pass":
                row.append("[green]pass")
            else:
                kinds = dict.fromkeys(str(c.get("kind", "run")) for c in failed_checks(result))
                row.append("[red]FAIL[/] " + escape(", ".join(kinds)))
        table.add_row(*row)
    return table


def _heatmap_svg(results: Sequence[CellResult]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    edges, faults = _axes(results)
    by_key = {(r.edge, r.fault): r for r in results}
    grid = [
        [
            (1.0 if by_key[(e, f)].verdict == "fail" else 0.0) if (e, f) in by_key else float("nan")
            for f in faults
        ]
        for e in edges
    ]
    figure = Figure(figsize=(1.1 * len(faults) + 2.5, 0.45 * len(edges) + 1.6))
    axes = figure.add_subplot()
    axes.imshow(grid, cmap=ListedColormap(["#4caf50", "#e53935"]), vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(faults)), faults, rotation=35, ha="right")
    axes.set_yticks(range(len(edges)), edges)
    for row, edge in enumerate(edges):
        for col, fault in enumerate(faults):
            result = by_key.get((edge, fault))
            if result is not None:
                label = "pass" if result.verdict == "pass" else f"{len(failed_checks(result))} ✗"
                axes.text(col, row, label, ha="center", va="center", color="white", fontsize=8)
    axes.set_title("edges x fault classes (green: pass, red: failed checks)")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog


def amplification_by_edge(results: Sequence[CellResult]) -> dict[str, float]:
    """The highest amplification (requests at the provider per request at the caller)
    each edge showed in any cell."""
    highest: dict[str, float] = {}
    for result in results:
        for check in result.checks:
            edge, observed = check.get("edge"), check.get("observed")
            if check.get("kind") == "amplification" and edge and observed is not None:
                highest[str(edge)] = max(highest.get(str(edge), 0.0), float(observed))
    return dict(sorted(highest.items()))


def _amplification_svg(results: Sequence[CellResult]) -> str:
    from matplotlib.figure import Figure

    highest = amplification_by_edge(results)
    if not highest:
        return ""
    limits = [
        float(c["limit"])
        for r in results
        for c in r.checks
        if c.get("kind") == "amplification" and c.get("limit") is not None
    ]
    figure = Figure(figsize=(7.5, 0.35 * len(highest) + 1.4))
    axes = figure.add_subplot()
    axes.barh(list(highest), list(highest.values()), color="#1f77b4")
    if limits:
        axes.axvline(max(limits), color="#d62728", linestyle="--", label="bound")
        axes.legend(loc="lower right")
    axes.invert_yaxis()
    axes.set_xlabel("requests at the provider per request at the caller (highest of any cell)")
    axes.set_title("amplification per edge")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>harness explore</title>
<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top}table{border-collapse:collapse}.fail{color:#c62828}.pass{color:#2e7d32}
code{font-size:90%}</style></head><body>
<h1>harness explore</h1>
<p>seed {{ seed }} &middot; {{ results|length }} cells &middot; {{ failed }} failed
{% if wall_time %}&middot; {{ "%.0f"|format(wall_time) }} s{% endif %}</p>
{{ svg|safe }}
{{ amplification|safe }}
<table><tr><th>cell</th><th>verdict</th><th>failed checks</th><th>links</th>
<th>replay</th></tr>
{% for r in results %}<tr><td>{{ r.cell }}</td><td class="{{ r.verdict }}">{{ r.verdict }}</td>
<td>{% for c in failed_of(r) %}<b>{{ c.name }}</b>: {{ c.summary }}<br>{% endfor %}</td>
<td>{% if r.report %}<a href="{{ rel(r.report) }}">report</a> {% endif %}
{% if r.journal %}<a href="{{ rel(r.journal) }}">journal</a>{% endif %}</td>
<td><code>{{ r.replay }}</code></td></tr>
{% endfor %}</table></body></html>
"""


def write_heatmap(
    out: Path, results: Sequence[CellResult], *, seed: int, wall_time: float | None = None
) -> Path:
    """`DIR/matrix.html`: the heat map (matplotlib SVG) and every cell's checks and links."""
    import jinja2

    def rel(path: str) -> str:
        try:
            return str(Path(path).resolve().relative_to(out.resolve()))
        except ValueError:
            return Path(path).resolve().as_uri()

    environment = jinja2.Environment(autoescape=True)
    page = environment.from_string(_PAGE).render(
        seed=seed,
        results=results,
        failed=sum(1 for r in results if r.verdict == "fail"),
        wall_time=wall_time,
        svg=_heatmap_svg(results) if results else "",
        amplification=_amplification_svg(results),
        failed_of=failed_checks,
        rel=rel,
    )
    path = out / "matrix.html"
    path.write_text(page)
    return path
