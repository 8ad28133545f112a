"""The one place a command's rich Console is made.

On a terminal it is rich's own. Anywhere else (a CI log, a pipe, a file) a line is never
broken where the terminal would have ended: rich would otherwise wrap at 80 columns, and a
printed replay command or report path would reach the log in two pieces that no longer work
when copied. Tables are then laid out for `LOG_WIDTH` columns (or `$COLUMNS` when set).
"""

from __future__ import annotations

import os

from rich.console import Console

LOG_WIDTH = 200


def make_console(
    *,
    stderr: bool = False,
    quiet: bool = False,
    highlight: bool = True,
    terminal: bool | None = None,
) -> Console:
    """A Console on stdout (or stderr) that does not hard-wrap lines outside a terminal;
    `terminal=False` treats a terminal as a log (plain lines, no live display)."""
    console = Console(stderr=stderr, quiet=quiet, highlight=highlight, force_terminal=terminal)
    if not console.is_terminal:
        console.soft_wrap = True
        if "COLUMNS" not in os.environ:
            console.width = LOG_WIDTH
    return console
