"""Where the reference system's experiments live (a module of its own: test modules import
it by name, which a `conftest` cannot be when several test folders each have one)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAOS_DIR = ROOT / "chaos"
