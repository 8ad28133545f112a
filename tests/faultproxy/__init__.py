"""Conformance suite of the embedded fault proxy (a package, so its module names stay unique)."""
