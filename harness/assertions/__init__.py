"""Judging a run: invariant checkers (`invariants`)."""
