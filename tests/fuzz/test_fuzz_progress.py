"""Progress while a fuzz pass runs: plain lines per operation (and every N cases) in a log,
one live status line on a terminal; never rich's `file.py:NN` source suffix."""

from __future__ import annotations

import io
import re

from rich.console import Console
from toy_apps import toy_front

from harness.fuzz import ALL_PHASES, PassSettings, build_config, load_app_schema, run_pass
from harness.fuzz.progress import FuzzProgress, PassCounts, fuzz_progress

LINE = re.compile(
    r"^\[\d\d:\d\d:\d\d\] fuzzing front: (?P<label>.+) \((?P<seen>\d+)/(?P<total>\d+) "
    r"operations, (?P<cases>\d+) cases, \d+ failures, \d+\.\d+s\)$"
)


def _toy_schema() -> object:
    front = toy_front()
    front.reset()
    settings = PassSettings(seed=3, max_examples=8, phases=ALL_PHASES, checks={})
    return load_app_schema(front.app, config=build_config(settings))


def test_a_pass_in_a_log_prints_a_plain_line_as_each_operation_is_first_fuzzed() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with fuzz_progress(console, "fuzzing front") as progress:
        result = run_pass(_toy_schema(), service="front", progress=progress)

    lines = out.getvalue().splitlines()
    assert lines, "a pass that runs must say so while it runs"
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines  # plain text, nothing after the figures
    labels = [m["label"] for m in matches if m]
    for operation in result.operations:
        assert operation in labels
    assert [int(m["seen"]) for m in matches if m][-1] >= len(result.operations)
    cases = [int(m["cases"]) for m in matches if m]
    assert cases == sorted(cases)
    assert cases[-1] <= result.cases


def test_a_log_also_gets_a_line_every_n_cases_of_the_same_operation() -> None:
    out = io.StringIO()
    progress = FuzzProgress(Console(file=out, force_terminal=False), "fuzzing x", every_cases=10)
    for cases in (4, 8, 12, 16, 25, 31):
        progress("GET /a", PassCounts(operations_total=1, cases=cases, failures=0))
    lines = out.getvalue().splitlines()
    # the first scenario, then on crossing 10, 20 and 30 cases
    assert re.findall(r"(\d+) cases", "\n".join(lines)) == ["4", "12", "25", "31"]


def test_on_a_terminal_one_live_status_line_names_the_operation_and_counts() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    with fuzz_progress(console, "fuzzing front") as progress:
        assert progress._status is not None
        progress("POST /greetings", PassCounts(operations_total=3, cases=12, failures=1))
        status = str(progress._status.renderable.text)  # type: ignore[attr-defined]
    assert status == (
        "fuzzing front: POST /greetings (1/3 operations, 12 cases, 1 failures, "
        + status.rsplit(", ", 1)[1]
    )
    assert not re.search(r"^\[\d\d:\d\d:\d\d\]", out.getvalue(), re.M)  # no log lines


def test_a_stateful_scenario_is_not_counted_as_an_operation() -> None:
    out = io.StringIO()
    progress = FuzzProgress(Console(file=out, force_terminal=False), "fuzzing x", every_cases=10)
    progress("GET /a", PassCounts(operations_total=2, cases=4, failures=0))
    progress("POST /a", PassCounts(operations_total=2, cases=8, failures=0))
    progress("stateful_testing scenario", PassCounts(operations_total=2, cases=12, failures=0))
    assert "stateful_testing scenario (2/2 operations, 12 cases" in out.getvalue()
