"""A command's output in a CI log keeps each line whole (a replay command stays copyable)."""

from __future__ import annotations

import subprocess
import sys

REPLAY = "replay: harness chaos run chaos/05_kill.yaml -t " + "/x" * 60 + " --seed 7"


def _printed(env_columns: str | None) -> str:
    code = (
        "from harness.console import make_console\n"
        f"make_console().print({REPLAY!r}, markup=False)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    if env_columns is not None:
        env["COLUMNS"] = env_columns
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


def test_a_long_line_reaches_a_log_whole() -> None:
    assert len(REPLAY) > 150
    assert _printed(None) == REPLAY + "\n"


def test_a_long_line_stays_whole_even_when_columns_is_narrow() -> None:
    assert _printed("40") == REPLAY + "\n"
