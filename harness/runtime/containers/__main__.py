"""`python -m harness.runtime.containers build|clean|check` (see `cli.py`)."""

from harness.runtime.containers.cli import app

app(prog_name="harness containers")
