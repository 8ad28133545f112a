"""Fuzzing third-party services by what they declare (`[services.X.conventions]`), nothing
assumed: a Swagger 2 document at a path of its own is fuzzed; a service with no document is
skipped with the reason; the error-body check runs only where keys are declared, and checks
those; any check can be switched off; a mistake in a document is a spec error.

Real processes on loopback (tests/fuzz/apps/thirdparty.toml): a Flask service under
gunicorn, a FastAPI one under uvicorn."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rich.console import Console
from toy_apps import APPS

from harness.fuzz import FuzzOptions, FuzzResult, FuzzRunError, PassResult, print_summary, run_fuzz
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

pytestmark = pytest.mark.integration

THIRDPARTY = APPS / "thirdparty.toml"
PETS_OPERATIONS = ["GET /pets", "POST /pets", "GET /pets/{petId}"]


@pytest.fixture(scope="module")
def thirdparty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    with start_system(load_topology(THIRDPARTY), home=tmp_path_factory.mktemp("home")) as system:
        yield system


def fuzz(
    system: RunningSystem, out: Path, *services: str, **options: object
) -> tuple[FuzzResult, str]:
    result = run_fuzz(
        THIRDPARTY,
        system=system,
        options=FuzzOptions(
            services=list(services) or None,
            max_examples=5,
            fault_passes=False,
            out_dir=out,
            **options,  # type: ignore[arg-type]
        ),
        console=Console(quiet=True),
    )
    console = Console(width=200, record=True, file=io.StringIO())
    print_summary(result, console=console)
    return result, console.export_text()


def only_pass(result: FuzzResult) -> PassResult:
    [outcome] = result.passes
    return outcome


def test_a_swagger_2_document_at_its_own_path_is_fuzzed_with_its_own_error_body(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, text = fuzz(thirdparty, tmp_path, "pets")
    outcome = only_pass(result)
    assert outcome.passed, text
    assert sorted(outcome.operations) == sorted(PETS_OPERATIONS)
    assert outcome.figures.operations_covered == 3
    assert outcome.answers["POST /pets"][201] > 0
    assert outcome.checks_run["error_body_shape"] > 0  # {"message"}, as declared
    # JUnit cases carry the time schemathesis spent on each operation, not an even split.
    [suite] = ElementTree.parse(tmp_path / "junit.xml").getroot()
    times = [float(case.get("time", "")) for case in suite]
    assert all(t > 0 for t in times)
    assert sum(times) <= float(suite.get("time", ""))


def test_a_service_with_no_openapi_is_skipped_with_the_reason(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, text = fuzz(thirdparty, tmp_path)
    names = {p.service: p for p in result.passes}["names"]
    assert names.skipped is not None
    assert 'its `openapi` convention is ""' in names.skipped
    assert "names: skipped, no OpenAPI document" in " ".join(text.split())
    cases = ElementTree.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    skipped = [c for c in cases if "names" in (c.get("classname") or "")]
    assert len(skipped) == 1
    assert skipped[0].find("skipped") is not None
    # The document declared for pets-misdeclared is found; only `names` is skipped.
    assert [p.service for p in result.passes if p.skipped] == ["names"]


def test_the_error_body_check_checks_the_declared_keys(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, text = fuzz(thirdparty, tmp_path, "pets-misdeclared")
    outcome = only_pass(result)
    assert outcome.failures, text
    assert {f.check for f in outcome.failures} == {"error_body_shape"}
    assert all("lacks error, detail" in f.message for f in outcome.failures)


def test_no_error_body_check_without_declared_keys_and_switched_off_checks_do_not_run(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, text = fuzz(thirdparty, tmp_path, "pets-quiet")
    outcome = only_pass(result)
    assert outcome.passed, text
    assert outcome.checks_run["not_a_server_error"] > 0
    assert "error_body_shape" not in outcome.checks_run
    assert "unsupported_method" not in outcome.checks_run


def test_operations_a_document_gets_wrong_are_spec_errors_not_unanswered(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, text = fuzz(thirdparty, tmp_path, "pets-broken")
    outcome = only_pass(result)
    assert list(outcome.spec_errors) == ["POST /pets"]
    assert "Unresolvable reference" in outcome.spec_errors["POST /pets"]
    assert outcome.uncovered == []
    assert not result.passed
    flat = " ".join(text.split())
    assert "spec error in POST /pets: Schema Error: Unresolvable reference" in flat
    assert "got no answer" not in flat
    assert "[red]" not in flat
    assert "[/]" not in flat


def test_a_document_missing_where_it_was_declared_is_an_error_naming_the_setting(
    thirdparty: RunningSystem, tmp_path: Path
) -> None:
    result, _ = fuzz(thirdparty, tmp_path, "pets", openapi_paths={"pets": "/swagger.json"})
    outcome = only_pass(result)
    assert outcome.skipped is None
    [error] = outcome.errors
    assert "/swagger.json (answered 404), where --openapi-path says it is" in error
    assert "`openapi` under [services.pets.conventions]" in error


def test_an_unknown_check_in_fuzz_checks_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    topology = tmp_path / "system.toml"
    topology.write_text(
        '[services.api]\nurl = "http://127.0.0.1:9"\n'
        "[services.api.conventions]\nfuzz_checks = { no_such_check = false }\n"
    )
    with pytest.raises(FuzzRunError, match=r"services\.api\.conventions\.fuzz_checks: unknown"):
        run_fuzz(topology, options=FuzzOptions(out_dir=tmp_path), console=Console(quiet=True))
