"""Start many Python services fast: import their heavy libraries once, then fork each one.

Six services that each import SQLAlchemy, FastAPI and pydantic spend most of their start-up
importing the same modules, six times over, on a machine with two cores. The fork server
imports the topology's `preload` modules once, then forks one child per service; the child
becomes its own session, points stdout/stderr at its log, takes its own environment and
working directory, and runs exactly what `python -m MODULE ARGS...` would have run
(`runpy`), so a forked service behaves like a spawned one.

It runs as a script (`python .../forkserver.py`), not as `-m harness.runtime.forkserver`,
so that nothing of the harness is imported into the processes it forks.

Protocol: the parent writes one JSON object on stdin, `{"preload": [...], "processes":
[{"key", "argv", "env", "cwd", "log_path"}]}`; the server answers one JSON line per child,
`{"key": ..., "pid": ...}` (or `{"preload_error": ...}` lines), then exits. The children
are left to the harness, which knows them by pid and process group.

Preloaded modules must not read per-service settings or start threads at import time.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys
import time
from typing import Any

__all__ = ["main"]


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _child(spec: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.setsid()
        _name_process(spec["key"])
        log_fd = os.open(spec["log_path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.close(null_fd)
        os.chdir(spec["cwd"])
        os.environ.update({"PYTHONUNBUFFERED": "1", **spec["env"]})
        argv: list[str] = spec["argv"]
        module = argv[2]  # argv is [python, "-m", module, *args]
        sys.argv = [module, *argv[3:]]
        sys.path[0] = os.getcwd()  # as `python -m` run from that directory
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # the log is the only place anyone will look
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _name_process(name: str) -> None:
    """Show the service's name in `ps -o comm` and `top` instead of "python"."""
    try:
        with open("/proc/self/comm", "w", encoding="utf-8") as comm:
            comm.write(name[:15])
    except OSError:  # not Linux: cosmetic only
        pass


def main() -> None:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # run as a script: keep this directory's modules from shadowing others
    request = json.loads(sys.stdin.read())
    started = time.monotonic()
    for module in request.get("preload", []):
        try:
            importlib.import_module(module)
        except Exception as exc:  # a service that needs it will fail visibly in its own log
            _say({"preload_error": f"{module}: {type(exc).__name__}: {exc}"})
    sys.stderr.write(
        f"preloaded {len(request.get('preload', []))} modules in "
        f"{time.monotonic() - started:.2f} s; forking {len(request['processes'])} services\n"
    )
    parent = os.getppid()
    for spec in request["processes"]:
        if os.getppid() != parent:  # the harness died: nobody would know these children
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(spec)
        _say({"key": spec["key"], "pid": pid})


if __name__ == "__main__":
    main()
