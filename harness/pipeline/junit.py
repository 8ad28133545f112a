"""JUnit XML for CI: one `<testsuite>` per stage, one `<testcase>` per check.

Every stage command (`harness contracts verify`, `fuzz`, `chaos run`, `load run`) and
`harness run` write the same shape from the same `StageResult`s: a contract interaction, a
fuzz check on an operation, a chaos assertion, a load SLO or assertion is one test case, with
its measured time and, when it failed, its first mismatch as the failure message and the
whole story as the failure text. A skipped stage is a suite holding one skipped case that
says why; a check that could not be judged is an `<error>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

from harness.pipeline.model import StageCheck, StageResult

__all__ = ["render_junit", "write_junit"]

# Characters XML 1.0 cannot carry, even escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MESSAGE_LENGTH = 300


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("\N{REPLACEMENT CHARACTER}", text)


def _message(text: str) -> str:
    """The first line of `text`, short enough for a CI system's one-line summary."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > _MESSAGE_LENGTH:
        first = first[: _MESSAGE_LENGTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return _clean(first)


def _case(suite: ElementTree.Element, stage: str, check: StageCheck) -> str:
    """Add `check` to `suite`; returns its outcome: passed, failure, error or skipped."""
    classname = f"{stage}.{check.group}" if check.group else stage
    case = ElementTree.SubElement(
        suite,
        "testcase",
        classname=_clean(classname),
        name=_clean(check.name),
        time=f"{check.seconds or 0.0:.3f}",
    )
    if check.skipped is not None:
        ElementTree.SubElement(case, "skipped", message=_message(check.skipped))
        return "skipped"
    if check.passed:
        return "passed"
    kind = "error" if check.error else "failure"
    element = ElementTree.SubElement(case, kind, message=_message(check.detail or "failed"))
    element.text = _clean(check.detail or "failed")
    return kind


def _suite(stage: StageResult) -> ElementTree.Element:
    suite = ElementTree.Element("testsuite", name=stage.name)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    checks = list(stage.checks)
    if stage.skipped is not None:
        checks = [StageCheck(name=stage.name, passed=True, skipped=stage.skipped)]
    elif stage.error is not None:
        # The stage could not run to its end: that is an error of its own, beside any check.
        checks.append(StageCheck(name="stage", passed=False, detail=stage.error, error=True))
    elif not stage.passed and all(check.passed for check in checks):
        checks.append(StageCheck(name="stage", passed=False, detail=stage.headline))
    for check in checks:
        outcome = _case(suite, stage.name, check)
        counts["tests"] += 1
        if outcome == "failure":
            counts["failures"] += 1
        elif outcome == "error":
            counts["errors"] += 1
        elif outcome == "skipped":
            counts["skipped"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{stage.duration:.3f}")
    return suite


def render_junit(stages: Sequence[StageResult], *, name: str = "harness") -> str:
    """The JUnit XML document of `stages` (one suite each)."""
    root = ElementTree.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for stage in stages:
        suite = _suite(stage)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(stage.duration for stage in stages):.3f}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(stages: Sequence[StageResult], path: Path, *, name: str = "harness") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(stages, name=name), encoding="utf-8")
    return path
