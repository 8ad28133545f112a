"""Where a command finds its topology: the variable and the file name it looks for (no
models here, so the command line can name them in its help without loading pydantic)."""

from __future__ import annotations

__all__ = ["DEFAULT_TOPOLOGY_FILE", "TOPOLOGY_ENV"]

TOPOLOGY_ENV = "HARNESS_TOPOLOGY"
DEFAULT_TOPOLOGY_FILE = "system.toml"
