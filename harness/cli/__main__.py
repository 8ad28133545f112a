"""`python -m harness.cli ...` (same as the `harness` command)."""

from harness.cli import main

main()
