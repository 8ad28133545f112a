"""`python -m harness.contracts verify ...`: the contracts CLI without the `harness` entry point."""

from harness.contracts.cli import app

app(prog_name="harness contracts")
