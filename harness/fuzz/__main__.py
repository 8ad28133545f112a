"""`python -m harness.fuzz ...`: the same as `harness fuzz ...`."""

from harness.fuzz.cli import app

app(prog_name="harness fuzz")
