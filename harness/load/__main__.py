"""`python -m harness.load run PROFILE`: the load CLI without the `harness` entry point."""

from harness.load.cli import app

app(prog_name="harness load")
