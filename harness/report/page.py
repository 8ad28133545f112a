"""The one page stack: a jinja2 environment over this package's templates, the rows of the
shared checks table, and `render_page`.

Every report (chaos, load, contracts, the pipeline) extends `base.html.j2`, so they share the
frame, the CSS, the verdict badge and the checks table; each stage adapts its own results to
`CheckRow`s with one small function, so a change of result type touches one function.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = [
    "CheckRow",
    "Figure",
    "Page",
    "Status",
    "environment",
    "format_evidence",
    "render_page",
    "write_page",
]

Status = Literal["passed", "failed", "pending", "skipped", "aborted", "interrupted"]


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One row of the checks table. `observed` and `limit` are already formatted text."""

    name: str
    status: Status
    kind: str = ""
    description: str = ""  # what was expected, in words; shown under the name
    observed: str = ""
    limit: str = ""
    detail: str = ""
    evidence: str = ""  # shown folded under the detail
    link: str | None = None  # a relative URL to the check's own page


@dataclass(frozen=True, slots=True)
class Figure:
    """A plot to embed: a title (shown as a tooltip) and inline SVG text."""

    title: str
    svg: str


@dataclass(frozen=True, slots=True)
class Page:
    """What the frame shows: title, one-line facts under it, the verdict and its summary."""

    title: str
    status: Status
    summary: str = ""
    meta: Sequence[str] = ()
    footer: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


_ENV = Environment(
    loader=PackageLoader("harness.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)


def environment() -> Environment:
    """The shared environment (templates: `base.html.j2`, `macros.html.j2`, one per report)."""
    return _ENV


def render_page(template: str, *, page: Page, **context: Any) -> str:
    """Render one of the package's templates with the frame's `page` and its own context."""
    return _ENV.get_template(template).render(page=page, **context)


def write_page(path: Path, template: str, *, page: Page, **context: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(template, page=page, **context), encoding="utf-8")
    return path


def format_evidence(evidence: Mapping[str, Any]) -> str:
    """Evidence as one `key: compact JSON` line per key, for a folded <pre> that wraps
    (long series stay a few lines, and nothing runs off the page)."""
    return "\n".join(
        f"{key}: {json.dumps(value, default=str, separators=(', ', ': '))}"
        for key, value in sorted(evidence.items())
    )
