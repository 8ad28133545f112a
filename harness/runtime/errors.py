"""Errors raised by the runtime; each message says what failed and where to look."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "HarnessRuntimeError",
    "NotStartedByHarness",
    "RunInUseError",
    "RunNotFoundError",
    "ServiceUnhealthyError",
    "StartupError",
    "UnknownServiceError",
    "startup_failure",
]

EXITED = "exited"  # how a health wait's reason starts when the process died


class HarnessRuntimeError(RuntimeError):
    """Base class of every runtime error."""


class StartupError(HarnessRuntimeError):
    """The system did not come up; everything that was started has been stopped again.

    `failures` maps each failed service to its reason; `log_tails` holds the last log lines
    of each failed service.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: Mapping[str, str] | None = None,
        log_tails: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.failures = dict(failures or {})
        self.log_tails = {name: list(lines) for name, lines in (log_tails or {}).items()}
        super().__init__(message)

    def __str__(self) -> str:
        lines = [str(self.args[0])]
        for name, reason in self.failures.items():
            lines.append(f"  {name}: {reason}")
            tail = self.log_tails.get(name)
            if tail:
                lines.append(f"  last {len(tail)} log lines of {name}:")
                lines.extend(f"    | {line}" for line in tail)
        return "\n".join(lines)


class ServiceUnhealthyError(StartupError):
    """A service did not become healthy in time (after a restart or a resume)."""


class UnknownServiceError(HarnessRuntimeError, KeyError):
    """No service of that name in this system."""

    def __str__(self) -> str:
        return str(self.args[0])


class NotStartedByHarness(HarnessRuntimeError):
    """A process fault on a service the harness did not start (attach backend, `url`)."""


class RunNotFoundError(HarnessRuntimeError):
    """No run directory or state file where one was expected."""


class RunInUseError(HarnessRuntimeError):
    """A live run already uses this run directory (or the CLI's current run is up)."""


def startup_failure(failures: Mapping[str, str], timeout: float) -> str:
    """The headline of a failed start-up: who exited, else what did not come up in time."""
    exited = sorted(name for name, reason in failures.items() if reason.startswith(EXITED))
    if exited:
        return f"{', '.join(exited)} exited during start-up"
    return f"the system did not come up within {timeout:g} s"
