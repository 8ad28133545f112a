"""The load report's adapter to the shared checks table, plain progress lines for CI logs,
and failing requests labelled with what failed."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

from rich.console import Console

from harness.load.progress import LoadProgress
from harness.load.report import check_rows
from harness.load.verdict import Check
from harness.observe.timeline import Timeline

LOCUSTFILE = Path(__file__).resolve().parents[2] / "load" / "locustfile.py"


def test_a_failed_check_row_says_what_was_observed_the_limit_and_the_miss() -> None:
    checks = [
        Check(
            kind="slo",
            name="p95 of all requests",
            passed=False,
            detail="p95 was 412 ms: missed by 162 ms (+65%)",
            observed=412.0,
            limit=250.0,
            unit="ms",
            comparison="<=",
        ),
        Check(kind="invariant", name="invariants", passed=True, detail="all hold"),
    ]
    failed, passed = check_rows(checks)
    assert (failed.status, failed.kind, failed.observed, failed.limit) == (
        "failed",
        "slo",
        "412 ms",
        "<= 250 ms",
    )
    assert failed.detail == "p95 was 412 ms: missed by 162 ms (+65%)"  # said once
    assert (passed.status, passed.observed, passed.limit) == ("passed", "", "")


def test_progress_in_a_log_is_plain_lines_without_a_source_suffix() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=80)
    with LoadProgress(console=console, total_s=10, title="smoke", text_every_s=0) as progress:
        progress.load_started()
        progress.update([], faults=["payments slow " * 8], timeline=Timeline())
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # one line each, never wrapped, whatever the width
    assert lines[0].endswith("] smoke: starting Locust")
    assert "faults: payments slow" in lines[1]
    assert "progress.py" not in out.getvalue()


def test_a_failed_request_is_labelled_with_its_message_not_the_exception_repr() -> None:
    # Importing Locust patches the process (gevent), so ask a fresh interpreter.
    code = textwrap.dedent(
        """
        from locust.exception import CatchResponseError
        from harness.load.locust_plugin import describe_error
        print(describe_error(CatchResponseError("200 OK, expected 201")))
        print(describe_error("CatchResponseError('503 Service Unavailable: down')"))
        print(describe_error(ConnectionRefusedError(111, "refused")))
        print(describe_error(CatchResponseError(200)))
        print(describe_error("LocustBadStatusCode(code=503)"))
        print(describe_error("HTTPError('404 Client Error: Not Found for url: /x')"))
        print(describe_error("RuntimeError('boom')"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(LOCUSTFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "200 OK, expected 201",
        "503 Service Unavailable: down",
        "ConnectionRefusedError: refused",
        "HTTP 200 OK, marked failed by the locustfile",
        "HTTP 503 Service Unavailable",
        "HTTP 404 Not Found",
        "RuntimeError('boom')",  # an error that is not about HTTP keeps its type and message
    ]


def test_the_locustfile_describes_a_failure_by_status_reason_error_and_expectation() -> None:
    code = textwrap.dedent(
        """
        import runpy, sys
        describe = runpy.run_path(sys.argv[1])["_describe"]
        class R:
            def __init__(self, code, body): self.status_code, self.body = code, body
            def json(self):
                if self.body is None: raise ValueError("not JSON")
                return self.body
        print(describe(R(200, None), {201}))
        print(describe(R(503, {"error": "dependency_unavailable", "dependency": "payments"})))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(LOCUSTFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "200 OK, expected 201",
        "503 Service Unavailable: dependency_unavailable (payments)",
    ]


def test_breaker_lanes_read_the_topology_convention_whatever_the_metric_is_called() -> None:
    from harness.load.plots import breaker_plot
    from harness.topology import Edge
    from harness.topology.conventions import BreakerConvention

    def scrape(t: float, state: float) -> dict[str, object]:
        samples = [{"name": "cb_state", "labels": {"upstream": "billing"}, "value": state}]
        return {"t": t, "samples": samples}

    data = {"api": [scrape(100.0, 0), scrape(101.0, 7), scrape(102.0, 0)]}
    convention = BreakerConvention(
        metric="cb_state", labels={"upstream": "{target}"}, states={"closed": 0, "open": 7}
    )
    timeline = Timeline.from_dict(data, breakers={Edge.parse("api->billing"): convention})
    svg = breaker_plot(timeline, [], origin=100.0, duration=3.0)
    assert svg is not None
    assert "api-&gt;billing" in svg
    assert "open" in svg
    assert "half_open" not in svg  # only the states the convention declares
    # Without the convention nothing says which gauge is a breaker.
    assert breaker_plot(Timeline.from_dict(data), [], origin=100.0, duration=3.0) is None
