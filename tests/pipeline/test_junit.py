"""JUnit XML: one suite per stage, a case per check with its time, the first mismatch as the
failure message and the whole story as its text; skipped stages and broken runs show as such."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from harness.contracts.results import ContractsResult, InteractionResult, ProviderResult
from harness.fuzz.results import FailureReport, FuzzResult, PassResult
from harness.pipeline import StageCheck, StageResult
from harness.pipeline.junit import render_junit, write_junit
from harness.pipeline.stages import contracts_stage, fuzz_stage


def parse(stages: list[StageResult]) -> ElementTree.Element:
    return ElementTree.fromstring(render_junit(stages).encode())


def test_a_suite_per_stage_with_counts_and_a_case_per_check(tmp_path: Path) -> None:
    stages = [
        StageResult(
            name="load",
            passed=False,
            headline="1/2 checks",
            duration=15.5,
            checks=[
                StageCheck(name="p95 of GET /api", group="slo", passed=True, seconds=15.0),
                StageCheck(
                    name="failure ratio",
                    group="slo",
                    passed=False,
                    detail="3.1% > 1%\nPOST /api/orders: 12 failed",
                    seconds=15.0,
                ),
            ],
        ),
        StageResult.skip("chaos", "no experiments: chaos/ does not exist"),
        StageResult(
            name="fuzz", passed=False, headline="could not run", error="StartupError: no /health"
        ),
    ]
    path = write_junit(stages, tmp_path / "out" / "j.xml", name="harness run")
    root = ElementTree.parse(path).getroot()
    assert root.get("name") == "harness run"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    load, chaos, fuzz = root
    assert load.get("name") == "load"
    assert load.get("time") == "15.500"
    failed = load.find("testcase[@name='failure ratio']")
    assert failed is not None
    assert failed.get("classname") == "load.slo"
    assert failed.get("time") == "15.000"
    failure = failed.find("failure")
    assert failure is not None
    assert failure.get("message") == "3.1% > 1%"  # the first line: what CI shows in a list
    assert failure.text == "3.1% > 1%\nPOST /api/orders: 12 failed"
    skipped = chaos.find("testcase/skipped")
    assert skipped is not None
    assert skipped.get("message") == "no experiments: chaos/ does not exist"
    error = fuzz.find("testcase/error")
    assert error is not None
    assert error.get("message") == "StartupError: no /health"


def test_contracts_name_the_interaction_and_its_first_mismatch() -> None:
    bad = InteractionResult(
        consumer="orders",
        provider="notifications",
        description="an order event the notifications service finds duplicate",
        states=("an event was received",),
        passed=False,
        mismatches=("$.status: expected 200 but was 202", "$.body.duplicate: missing"),
        seconds=0.012,
    )
    good = bad.model_copy(update={"passed": True, "mismatches": (), "description": "accepted"})
    result = ContractsResult(
        passed=False,
        providers=[
            ProviderResult(
                provider="notifications", source="pacts", passed=False, interactions=[good, bad]
            )
        ],
        coverage=[],
    )
    root = parse([contracts_stage(result)])
    (suite,) = root
    case = suite.find(
        "testcase[@name='an order event the notifications service finds duplicate "
        "(given an event was received)']"
    )
    assert case is not None
    assert case.get("classname") == "contracts.orders -> notifications"
    assert case.get("time") == "0.012"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "$.status: expected 200 but was 202"
    assert "$.body.duplicate: missing" in (failure.text or "")


def test_fuzz_has_a_case_per_operation_and_check_with_the_reproduction() -> None:
    outcome = PassResult(service="front", name="fuzz", operations=["GET /a", "POST /b"])
    outcome.covered = {"GET /a"}
    outcome.operation_checks = {"GET /a": {"not_a_server_error": 10, "status_code_conformance": 10}}
    outcome.operation_seconds = {"GET /a": 2.0}
    outcome.failures.append(
        FailureReport(
            service="front",
            pass_name="fuzz",
            operation="GET /a",
            check="not_a_server_error",
            code="server_error",
            title="Server error",
            message="500 Internal Server Error",
            phase="fuzzing",
            reproduce="curl -X GET http://127.0.0.1:1/a",
            rerun="harness fuzz run -t s.toml --seed 1 --max-examples 5",
            answer="500",
        )
    )
    result = FuzzResult(
        passes=[outcome, PassResult(service="back", name="fuzz")], seed=1, max_examples=5
    )
    result.passes[1].skipped = "no OpenAPI document at /openapi.json"
    root = parse([fuzz_stage(result)])
    (suite,) = root
    cases = {(c.get("classname"), c.get("name")): c for c in suite}
    failed = cases[("fuzz.front (fuzz)", "GET /a not_a_server_error")]
    assert failed.get("time") == "1.000"  # the operation's 2 s, shared by its two checks
    text = failed.find("failure").text or ""  # type: ignore[union-attr]
    assert "curl -X GET http://127.0.0.1:1/a" in text
    assert "harness fuzz run -t s.toml --seed 1" in text
    assert cases[("fuzz.front (fuzz)", "GET /a status_code_conformance")].find("failure") is None
    never = cases[("fuzz.front (fuzz)", "POST /b")].find("skipped")
    assert never is not None
    assert never.get("message") == "no request got an answer"
    document = cases[("fuzz.back (fuzz)", "document")].find("skipped")
    assert document is not None
    assert document.get("message") == "no OpenAPI document at /openapi.json"


def test_a_fuzz_run_with_no_document_anywhere_is_a_skipped_stage() -> None:
    nothing = PassResult(service="api", name="fuzz", skipped="no OpenAPI document declared")
    stage = fuzz_stage(FuzzResult(passes=[nothing], seed=1, max_examples=5))
    assert stage.status == "skipped"
    assert stage.skipped == "no service to fuzz (api: no OpenAPI document declared)"


def test_chaos_has_a_case_per_assertion_with_the_replay_command(tmp_path: Path) -> None:
    from harness.chaos.loader import load_experiment
    from harness.chaos.result import AssertionResult, ExperimentResult
    from harness.pipeline.stages import chaos_stage

    source = tmp_path / "latency.yaml"
    source.write_text(
        "title: payments slow\nmethod:\n  duration: 1s\n  faults: []\nassertions:\n"
        "  - name: opens\n    http: {service: a}\n"
    )
    result = ExperimentResult(
        experiment=load_experiment(source),
        seed=7,
        status="failed",
        topology=tmp_path / "system.toml",
        assertions=[
            AssertionResult(
                name="breaker of orders->payments opens",
                kind="breaker",
                expectation="open within 10s of slow.start",
                status="failed",
                summary="stayed closed (state 0 at every scrape)",
                resolved_at=10.25,
            ),
            AssertionResult(
                name="clients see no 5xx",
                kind="traffic",
                expectation="count == 0",
                status="passed",
                summary="0 errors",
                resolved_at=12.0,
            ),
        ],
    )
    root = parse([chaos_stage([result])])
    (suite,) = root
    case = suite.find("testcase[@name='breaker of orders->payments opens']")
    assert case is not None
    assert case.get("classname") == "chaos.payments slow"
    assert case.get("time") == "10.250"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "stayed closed (state 0 at every scrape)"
    assert f"replay: harness chaos run {source} -t {tmp_path / 'system.toml'} --seed 7" in (
        failure.text or ""
    )
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"
