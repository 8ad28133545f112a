"""Function references (`file.py:function`, `package.module:function`): checked, made
relative to the file naming them, and resolved, with errors that say what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.references import (
    SHAPES,
    FunctionReferenceError,
    rebase_reference,
    resolve_function,
    split_reference,
)
from harness.topology import TopologyError, parse_topology


def test_a_file_reference_is_rebased_on_the_naming_files_directory(tmp_path: Path) -> None:
    assert rebase_reference("checks/x.py:check", tmp_path) == f"{tmp_path / 'checks/x.py'}:check"
    assert rebase_reference("pkg.mod:check", tmp_path) == "pkg.mod:check"


@pytest.mark.parametrize("reference", ["check", "x.py:", ":check", "x.py:not an identifier"])
def test_a_malformed_reference_names_the_expected_shapes(reference: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"expected {SHAPES}, got {reference!r}")):
        split_reference(reference)
    with pytest.raises(FunctionReferenceError, match=re.escape(f"step {reference!r}: expected")):
        resolve_function(reference, what="step")


def test_a_file_function_is_found_relative_to_base_dir_and_keeps_its_module_state(
    tmp_path: Path,
) -> None:
    (tmp_path / "counting.py").write_text(
        "calls = []\ndef count():\n    calls.append(1)\n    return len(calls)\n"
    )
    first = resolve_function("counting.py:count", base_dir=tmp_path)
    again = resolve_function(f"{tmp_path / 'counting.py'}:count")
    assert (first(), again()) == (1, 2)  # one module per file


def test_each_problem_is_named_with_the_callers_error_type(tmp_path: Path) -> None:
    class StepError(ValueError):
        pass

    (tmp_path / "broken.py").write_text("raise RuntimeError('no driver')\n")
    (tmp_path / "empty.py").write_text("")
    problems = {
        "absent.py:f": "no such file",
        "broken.py:f": "broken.py failed to import: no driver",
        "empty.py:f": "no function 'f' in empty.py",
        "no_such_package.mod:f": "cannot import no_such_package.mod",
    }
    for reference, message in problems.items():
        expected = f"^{re.escape(f'--prepare {reference!r}: ')}.*{re.escape(message)}"
        with pytest.raises(StepError, match=expected):
            resolve_function(reference, base_dir=tmp_path, what="--prepare", error=StepError)


def test_the_topology_checks_a_fuzz_prepare_reference_when_it_is_read() -> None:
    with pytest.raises(TopologyError, match=re.escape(f"expected {SHAPES}, got 'seed'")):
        parse_topology({"services": {"a": {"app": "m:app"}}, "fuzz": {"prepare": "seed"}})
