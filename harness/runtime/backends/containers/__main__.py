"""`python -m harness.runtime.backends.containers build|clean|check` (see `cli.py`)."""

from harness.runtime.backends.containers.cli import app

app(prog_name="harness containers")
