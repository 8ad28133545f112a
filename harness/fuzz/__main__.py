"""`python -m harness.fuzz run ...`: the same as `harness fuzz run ...`."""

from harness.fuzz.cli import app

app(prog_name="harness fuzz")
