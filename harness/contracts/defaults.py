"""The contracts defaults `harness contracts --help` shows, apart from the modules that
import the Pact and broker machinery."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_PACT_DIR"]

DEFAULT_PACT_DIR = Path("contracts/pacts")
