"""`python -m harness.chaos run FILE...`: the chaos CLI without the `harness` entry point."""

from harness.chaos.cli import app

app(prog_name="harness chaos")
