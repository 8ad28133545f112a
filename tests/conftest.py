"""How `nox -s tests` shares the modules among its workers: the longest first.

The suite runs under xdist with `--dist loadfile` (a module's system starts once, on one
worker). xdist's own order is by number of tests, so a long module with few tests (the
pipeline's, the experiments' bites) came last and ran alone for half a minute while the
other workers stood idle. Here the modules start longest first, from the seconds each took
when last recorded (`tests/durations.json`), and a worker is handed its next module only
as it starts the last test of the one it runs (xdist hands it out two tests earlier, so a
long module could wait behind another one on a busy worker while an idle one had nothing).

Record the durations again after adding or reshaping a long module:

    nox -s tests -- -m "not containers and not experiment and not kill" -n 4 \\
        --dist loadfile -p no:cacheprovider --record-durations

Modules the file does not know are estimated from their number of tests and start last.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
UNKNOWN_SECONDS_PER_TEST = 0.05


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        action="store_true",
        help=f"write each module's seconds to {DURATIONS.name} (merged with what it holds), "
        "for the longest-first order of the workers",
    )


def _recorded() -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    seconds = _recorded()

    class LongestFirst(LoadFileScheduling):  # type: ignore[misc]
        def _estimate(self, scope: str) -> float:
            if scope in seconds:
                return seconds[scope]
            return UNKNOWN_SECONDS_PER_TEST * len(self.workqueue[scope])

        def _assign_work_unit(self, node: Any) -> None:
            longest = max(self.workqueue, key=self._estimate)
            self.workqueue.move_to_end(longest, last=False)
            super()._assign_work_unit(node)

        def _reschedule(self, node: Any) -> None:
            # A worker runs a test once it knows the next one (for the teardown), so the
            # next module must arrive while one test is still pending, and need not sooner.
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return LongestFirst(config, log)


class _Recorder:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # each worker reports to the controller, which writes
        merged = {**_recorded(), **{k: round(v, 1) for k, v in self.seconds.items()}}
        DURATIONS.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("record_durations") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(), "record-durations")
