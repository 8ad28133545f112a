"""The assertion engine's seams: a new kind in one module, the one invariant contract,
`Check` as the one result type, and edges parsed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from harness.assertions import (
    AssertionModel,
    Check,
    EvaluationContext,
    Scope,
    evaluate,
    parse_assertion,
    register,
)
from harness.assertions.engine import _KINDS, Problem
from harness.assertions.invariants import InvariantReport, Violation, invariant_report
from harness.assertions.window import Anchors, fault_windows
from harness.faults import TimelineEvent
from harness.topology import Edge
from harness.traffic import TrafficRecord

T0 = 1_000.0


class RequestBudget(AssertionModel):
    """A kind the harness does not ship: at most `budget` requests named `request` in the
    window. Defined, registered and judged without touching the engine."""

    keys: ClassVar[tuple[str, ...]] = ("request_budget",)
    request_budget: str
    budget: int

    def describe(self) -> str:
        return f"at most {self.budget} {self.request_budget} {self.describe_window()}"

    def problems(self, scope: Scope) -> list[Problem]:
        return [] if self.budget >= 0 else [("budget", "expected a budget of 0 or more")]

    def evaluate(self, ctx: EvaluationContext) -> Check:
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        if not (ctx.final or window.closed(ctx.now)):
            return self.pending()
        count = sum(
            1
            for record in ctx.traffic.records
            if record.name == self.request_budget and record.started_at >= window.start
        )
        return self.result(
            "passed" if count <= self.budget else "failed",
            f"{count} {self.request_budget} requests",
            observed=count,
            limit=self.budget,
            comparison="<=",
        )


@pytest.fixture
def request_budget_kind() -> Any:
    register(RequestBudget)
    yield RequestBudget
    _KINDS.pop("request_budget")


def test_a_new_assertion_kind_is_one_class_registered_and_judged_by_the_engine(
    request_budget_kind: Any,
) -> None:
    from harness.assertions import TrafficView

    assertion = parse_assertion(
        {"name": "few retries", "request_budget": "GET /orders", "budget": 2, "until": "end"}
    )
    assert isinstance(assertion, RequestBudget)
    records = [
        TrafficRecord(name="GET /orders", started_at=T0 + i, latency=0.01, status=200)
        for i in range(3)
    ]
    ctx = EvaluationContext(
        anchors=Anchors({"start": T0, "end": T0 + 5}),
        now=T0 + 6,
        traffic=TrafficView(records=records),
    )
    [check] = evaluate([assertion], ctx)
    assert check.kind == "request_budget"
    assert check.status == "failed"
    assert check.observed == 3
    assert check.limit == 2
    assert check.expectation == "at most 2 GET /orders from start until end"
    assert check.resolved_at == 6.0
    assert assertion.problems(Scope()) == []


def test_an_unknown_assertion_key_lists_every_registered_kind(request_budget_kind: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_assertion({"name": "x", "bogus": 1})
    message = str(refused.value)
    for key in ("`breaker`", "`metric`", "`request`", "`http`", "`invariant`", "`request_budget`"):
        assert key in message


def test_a_key_cannot_be_taken_by_two_kinds() -> None:
    class Impostor(AssertionModel):
        keys: ClassVar[tuple[str, ...]] = ("breaker",)

    with pytest.raises(ValueError, match="taken by BreakerAssertion"):
        register(Impostor)


def test_check_reads_the_json_summaries_shape_and_keeps_its_figures() -> None:
    check = Check.model_validate(
        {
            "kind": "slo",
            "name": "p95",
            "passed": False,
            "detail": "was 412 ms",
            "limit": 250.0,
            "observed": 412.0,
            "comparison": "<=",
        }
    )
    assert check.status == "failed"
    assert check.detail == "was 412 ms"
    assert check.miss == pytest.approx(162.0)
    again = Check.model_validate_json(check.model_dump_json())
    assert again == check
    assert check.model_dump()["passed"] is False


# -- one contract for invariant checkers --------------------------------------------------


def _report(answer: Any) -> InvariantReport:
    def checker(system: object) -> Any:
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return invariant_report(checker, None)


def test_every_answer_a_checker_may_give_becomes_an_invariant_report() -> None:
    assert _report(None).ok
    assert _report(True).ok
    assert _report([]).ok
    assert not _report(False).ok
    listed = _report(["order 7: charged twice"])
    assert [str(v) for v in listed.violations] == ["order 7: charged twice"]
    raised = _report(AssertionError("stock leaked"))
    assert [str(v) for v in raised.violations] == ["stock leaked"]
    report = InvariantReport(violations=(Violation("charged_once", "twice", order_id=7),))
    assert _report(report) is report


def test_a_crashing_checker_is_not_a_violation_but_an_error_for_the_caller() -> None:
    with pytest.raises(RuntimeError):
        _report(RuntimeError("database down"))


# -- fault windows and edges --------------------------------------------------------------


def _event(action: str, at: float, *, label: str | None = "slow", ok: bool = True) -> TimelineEvent:
    return TimelineEvent(
        at=T0 + at, offset=at, action=action, fault_index=0, kind="edge",  # type: ignore[arg-type]
        target="orders->payments", label=label, description="latency", ok=ok,
    )  # fmt: skip


def test_fault_moments_are_named_by_label_and_by_place_from_the_recorded_events() -> None:
    events = [_event("apply", 2), _event("remove", 4), _event("apply", 6), _event("remove", 8)]
    anchors = Anchors({"start": T0})
    anchors.record_fault_events(events)
    assert anchors.as_offsets()["slow.start"] == 2.0
    assert anchors.as_offsets()["slow.end"] == 8.0  # a repeated fault spans its pulses
    assert anchors.as_offsets()["fault-0.start"] == 2.0
    [window] = fault_windows(events, ["latency"], run_end=T0 + 10)
    assert (window.start, window.end) == (T0 + 2, T0 + 8)


@pytest.mark.parametrize("text", ["orders->payments", " orders -> payments ", "orders ->payments"])
def test_an_edge_is_parsed_once_from_either_spelling(text: str) -> None:
    edge = Edge.parse(text)
    assert edge == Edge("orders", "payments")
    assert edge.name == str(edge) == "orders->payments"


@pytest.mark.parametrize("text", ["orders-payments", "->payments", "orders->", "a->b->c"])
def test_a_malformed_edge_says_what_was_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected an edge as 'caller -> callee'"):
        Edge.parse(text)


def test_a_kind_from_an_installed_package_is_usable_in_experiment_files(tmp_path: Path) -> None:
    """A package declaring `harness.assertion_kinds` needs no change to the harness."""
    (tmp_path / "budget_kind.py").write_text(
        "from typing import ClassVar\n"
        "from harness.assertions import AssertionModel\n"
        "class Budget(AssertionModel):\n"
        "    keys: ClassVar[tuple[str, ...]] = ('budget',)\n"
        "    budget: int\n"
        "    def describe(self) -> str:\n"
        "        return f'budget {self.budget}'\n"
    )
    dist = tmp_path / "budget_kind-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: budget-kind\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[harness.assertion_kinds]\nbudget = budget_kind:Budget\n"
    )
    code = (
        "from harness.chaos import parse_experiment\n"
        "e = parse_experiment({'title': 't', 'method': {'duration': 1},\n"
        "                      'assertions': [{'name': 'a', 'budget': 3}]})\n"
        "print(type(e.assertions[0]).__name__, e.assertions[0].describe())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Budget budget 3"
