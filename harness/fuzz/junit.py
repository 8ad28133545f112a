"""JUnit XML for CI: one test suite per pass, a test case per operation.

Each distinct failure of an operation is its own failed test case, `GET /x [check]` (with
the reproduction commands), so the failure count is the run's; an operation that never got
an answer is `<skipped>`; one never sent because the document is wrong there is an
`<error>` (spec error); other problems that stopped part of a pass (network errors, a
missing document) are an `<error>` test case named `schemathesis`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from harness.fuzz.results import FailureReport, FuzzResult, PassResult

__all__ = ["render_junit", "write_junit"]

# Characters XML 1.0 cannot carry, even escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("\N{REPLACEMENT CHARACTER}", text)


def failure_text(failure: FailureReport) -> str:
    lines = [f"[{failure.code}] {failure.title} ({failure.check}, {failure.phase} phase)", ""]
    lines.append(failure.message)
    lines += ["", f"answer: {failure.answer}", "", "reproduce:"]
    lines += [f"  {step}" for step in failure.steps]
    lines.append(f"  {failure.reproduce}")
    if failure.rerun:
        lines += ["rerun:", f"  {failure.rerun}"]
    return _clean("\n".join(lines))


def _suite(outcome: PassResult) -> ElementTree.Element:
    suite = ElementTree.Element("testsuite", name=f"{outcome.service} ({outcome.name})")
    failures_by_operation: dict[str, list[FailureReport]] = defaultdict(list)
    for failure in outcome.failures:
        failures_by_operation[failure.operation].append(failure)
    operations = list(dict.fromkeys([*outcome.operations, *failures_by_operation]))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def case(name: str, time: float) -> ElementTree.Element:
        counts["tests"] += 1
        return ElementTree.SubElement(
            suite, "testcase", classname=outcome.service, name=name, time=f"{time:.3f}"
        )

    for operation in operations:
        # The time schemathesis spent on the operation's own scenarios (stateful sequences,
        # which span several operations, are in the suite's time only).
        share = outcome.seconds.get(operation, 0.0)
        found = failures_by_operation.get(operation, [])
        # One test case per distinct failure (operation and check), so that the number of
        # failed cases is the run's failure count.
        for failure in found:
            counts["failures"] += 1
            element = ElementTree.SubElement(
                case(f"{operation} [{failure.check}]", share / len(found)),
                "failure",
                message=_clean(failure.title),
            )
            element.text = failure_text(failure)
        if found:
            continue
        if operation in outcome.spec_errors:
            counts["errors"] += 1
            error = ElementTree.SubElement(
                case(operation, 0.0), "error", message="spec error: the operation was never sent"
            )
            error.text = _clean(outcome.spec_errors[operation])
        elif operation not in outcome.covered:
            counts["skipped"] += 1
            ElementTree.SubElement(
                case(operation, share), "skipped", message="no request got an answer"
            )
        else:
            case(operation, share)
    if outcome.skipped is not None:
        counts["skipped"] += 1
        ElementTree.SubElement(case("document", 0.0), "skipped", message=_clean(outcome.skipped))
    for index, text in enumerate(outcome.errors, start=1):
        counts["errors"] += 1  # one case per error: the count is the report's
        name = "schemathesis" if len(outcome.errors) == 1 else f"schemathesis ({index})"
        error = ElementTree.SubElement(
            case(name, 0.0), "error", message="the run could not complete"
        )
        error.text = _clean(text)
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{outcome.duration:.3f}")
    return suite


def render_junit(result: FuzzResult) -> str:
    """The JUnit XML document of `result`."""
    root = ElementTree.Element("testsuites", name="harness fuzz")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in result.passes:
        suite = _suite(outcome)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{result.duration:.3f}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(result: FuzzResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(result), encoding="utf-8")
    return path
