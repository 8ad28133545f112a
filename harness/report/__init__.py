"""One report stack for every stage: jinja2 templates (a shared frame, CSS, verdict badge and
checks table) and matplotlib plot helpers (time axes from the run's start, fault windows
shaded and labelled, state lanes), rendered as self-contained HTML pages.

    from harness.report import CheckRow, Page, render_page
    html = render_page("chaos.html.j2", page=Page(title="...", status="passed"), checks=[...])
"""

from harness.report.page import (
    CheckRow,
    Figure,
    Page,
    Status,
    environment,
    format_evidence,
    render_page,
    write_page,
)

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
