"""Start many Python services fast: import their heavy libraries once, then fork each one.

Six services that each import SQLAlchemy, FastAPI and pydantic spend most of their start-up
importing the same modules, six times over, on a machine with two cores. The fork server
imports the topology's `preload` modules once, then forks one child per service; the child
becomes its own session, points stdout/stderr at its log, takes its own environment and
working directory, and runs exactly what `python -m MODULE ARGS...` would have run
(`runpy`), so a forked service behaves like a spawned one.

It runs as a script (`python .../forkserver.py`), not as `-m harness.runtime.forkserver`,
so that nothing of the harness is imported into the processes it forks.

Protocol: the parent writes one JSON object per line on stdin. The first,
`{"preload": [...], "processes": [{"key", "argv", "env", "cwd", "log_path", "append_log"}]}`,
imports the modules and forks the services; each later `{"processes": [...]}` forks more
from the same preloaded interpreter (a restart). The server answers one JSON line per
child, `{"key": ..., "pid": ...}` (or `{"key": ..., "error": ...}` when it cannot fork;
`{"preload_error": ...}` lines), and exits when its stdin closes, which also happens when
the harness dies. The children are left to the harness, which knows them by pid and
process group; the server reaps them when they exit (SIGCHLD ignored), so none lingers as
a zombie while the server waits. They inherit the server's environment, which carries the
run's mark (`HARNESS_RUN_ID`): a child whose pid never reached the harness (killed between
the fork and the read) is still found and stopped by the run's teardown.

Preloaded modules must not read per-service settings or start threads at import time.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
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
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server's SIG_IGN is not the service's
        os.setsid()
        _name_process(spec["key"])
        mode = os.O_APPEND if spec.get("append_log") else os.O_TRUNC  # a restart appends
        log_fd = os.open(spec["log_path"], os.O_WRONLY | os.O_CREAT | mode, 0o644)
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


def _preload(modules: list[str]) -> None:
    started = time.monotonic()
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a service that needs it will fail visibly in its own log
            _say({"preload_error": f"{module}: {type(exc).__name__}: {exc}"})
    sys.stderr.write(f"preloaded {len(modules)} modules in {time.monotonic() - started:.2f} s\n")


def _fork_all(specs: list[dict[str, Any]], parent: int) -> bool:
    """Fork one child per spec; False when the harness is gone (nobody would know them)."""
    for spec in specs:
        if os.getppid() != parent:
            return False
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            _say({"key": spec["key"], "error": f"fork failed: {exc}"})
            continue
        if pid == 0:
            _child(spec)
        _say({"key": spec["key"], "pid": pid})
    sys.stderr.write(f"forked {', '.join(spec['key'] for spec in specs)}\n")
    return True


def main() -> None:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # run as a script: keep this directory's modules from shadowing others
    parent = os.getppid()
    for line in sys.stdin:  # until the harness closes the pipe (or dies)
        if not line.strip():
            continue
        request = json.loads(line)
        if "preload" in request:
            _preload(request["preload"])
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # exited children are reaped at once
        if not _fork_all(request.get("processes", []), parent):
            return


if __name__ == "__main__":
    main()
