"""One fuzzing pass: schemathesis' engine (the one behind `schemathesis run`: examples,
coverage, fuzzing and stateful phases) over one OpenAPI document, its events folded into a
`PassResult` with figures and reproducible failures."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import LoaderError
from schemathesis.core.result import Ok
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import CheckNode, Request, ScenarioRecorder

from harness.fuzz.progress import PassCounts
from harness.fuzz.results import FailureReport, PassResult

__all__ = ["SchemaLoadError", "load_app_schema", "load_url_schema", "run_pass"]

# Called as each scenario finishes: its label (an operation, or a stateful scenario's).
Progress = Callable[[str, PassCounts], None]
# schemathesis' titles for errors in the document itself: the operation was never sent.
SPEC_ERROR_TITLES = frozenset(
    {"Schema Error", "Invalid Link Definition", "Invalid OpenAPI Links Definition"}
)


class SchemaLoadError(RuntimeError):
    """An OpenAPI document could not be fetched or parsed; the message says where and why."""


def load_url_schema(document_url: str, *, config: SchemathesisConfig) -> Any:
    """The document at `document_url` (a running service), requests going to the config's
    base URL (default: the document's own server)."""
    try:
        return schemathesis.openapi.from_url(document_url, config=config)
    except LoaderError as exc:
        raise SchemaLoadError(f"{document_url}: {_first_line(exc)}") from None


def load_app_schema(
    app: Any,
    *,
    config: SchemathesisConfig,
    kind: Literal["asgi", "wsgi"] = "asgi",
    path: str = "/openapi.json",
) -> Any:
    """The document an in-process app serves at `path`; requests go to the app itself."""
    loader = schemathesis.openapi.from_asgi if kind == "asgi" else schemathesis.openapi.from_wsgi
    try:
        return loader(path, app, config=config)
    except LoaderError as exc:
        raise SchemaLoadError(f"{kind} app {path}: {_first_line(exc)}") from None


def _request_identity(request: Request) -> bytes:
    # Method, path, query and body: what the seed decides. Not the host (ports change from
    # one run to the next) nor the headers (request ids).
    url = urlsplit(request.uri)
    return b"%s %s?%s\n%s\n" % (
        request.method.encode(),
        url.path.encode(errors="replace"),
        url.query.encode(errors="replace"),
        request.body or b"",
    )


def _answer(recorder: ScenarioRecorder, case_id: str, limit: int = 500) -> str:
    """`422 {"error": ...}`: what the failing request got (its status and body's start)."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return "no answer"
    response = interaction.response
    body = response.content.decode("utf-8", errors="replace")
    if len(body) > limit:
        body = body[:limit] + "..."
    return f"{response.status_code} {body}".strip()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_pass(
    schema: Any,
    *,
    service: str,
    name: str = "fuzz",
    rerun: str = "",
    progress: Progress | None = None,
) -> PassResult:
    """Run every enabled phase over `schema`; `rerun` is the command quoted with failures."""
    result = PassResult(service=service, name=name, operations=_operation_labels(schema))
    folder = _EventFolder(result, rerun=rerun, progress=progress)
    started = time.monotonic()
    for event in from_schema(schema).execute():
        folder.fold(event)
    result.duration = time.monotonic() - started
    return result


def _operation_labels(schema: Any) -> list[str]:
    labels = []
    for operation in schema.get_all_operations():
        if isinstance(operation, Ok):  # an invalid one is reported by the engine as an error
            labels.append(operation.ok().label)
    return labels


class _EventFolder:
    def __init__(self, result: PassResult, *, rerun: str, progress: Progress | None) -> None:
        self.result = result
        self.rerun = rerun
        self.progress = progress
        self.seen: set[tuple[str, str, str, str, str]] = set()
        self.digest = hashlib.sha256()

    def fold(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            self._scenario(event)
        elif isinstance(event, events.NonFatalError):
            self._error(event)
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:  # checks that judge the whole run
                self.result.errors.append(f"{failure.title}: {failure.message}")
        elif isinstance(event, events.FatalError):
            self.result.errors.append(f"schemathesis stopped: {event.exception!r}")
        elif isinstance(event, events.Interrupted):
            self.result.errors.append("interrupted: the pass did not complete")

    def _error(self, event: events.NonFatalError) -> None:
        info = event.info
        if info.title in SPEC_ERROR_TITLES or info.title.startswith("Unsupported"):
            # The document is wrong here: no request could be built for this operation.
            message = (info.message or str(event.value)).strip()
            self.result.spec_errors[event.label] = f"{info.title}: {message}"
            if event.label not in self.result.operations and " " in event.label:
                self.result.operations.append(event.label)
            return
        self.result.errors.append(f"{event.label}: {info.format()}")

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.result.cases += len(recorder.cases)
        for case_id, node in recorder.cases.items():
            interaction = recorder.interactions.get(case_id)
            if interaction is not None:
                self.digest.update(_request_identity(interaction.request))
            if interaction is not None and interaction.response is not None:
                label = node.value.operation.label
                self.result.covered.add(label)
                answers = self.result.answers.setdefault(label, Counter())
                answers[interaction.response.status_code] += 1
        self.result.fingerprint = self.digest.hexdigest()[:16]
        if event.label in self.result.operations:  # a stateful scenario spans several
            seconds = self.result.seconds
            seconds[event.label] = seconds.get(event.label, 0.0) + event.elapsed_time
        phase = event.phase.name.lower()
        # A scenario's time goes to its operations in proportion to their cases.
        labels = [node.value.operation.label for node in recorder.cases.values()]
        seconds = self.result.operation_seconds
        for label in labels:
            seconds[label] = seconds.get(label, 0.0) + event.elapsed_time / len(labels)
        for case_id, checks in recorder.checks.items():
            self.result.checks += len(checks)
            case = recorder.cases.get(case_id)
            label = case.value.operation.label if case is not None else recorder.label
            by_check = self.result.operation_checks.setdefault(label, Counter())
            for check in checks:
                self.result.checks_run[check.name] += 1
                by_check[check.name] += 1
                if check.status == Status.FAILURE and check.failure_info is not None:
                    self._failure(check, recorder, phase, _answer(recorder, case_id))
        if self.progress is not None:
            counts = PassCounts(
                operations_total=len(self.result.operations),
                cases=self.result.cases,
                failures=len(self.result.failures),
            )
            self.progress(event.label or f"{phase} scenario", counts)

    def _failure(
        self, check: CheckNode, recorder: ScenarioRecorder, phase: str, answer: str
    ) -> None:
        info = check.failure_info
        assert info is not None
        failure = info.failure
        operation = failure.operation or recorder.label or "?"
        key = (self.result.name, operation, check.name, failure.code, failure.title)
        if key in self.seen:
            return  # the same failure again (hypothesis shrinks, then replays it)
        self.seen.add(key)
        curls = [step.curl for step in info.steps] or info.code_sample.strip().splitlines()
        self.result.failures.append(
            FailureReport(
                service=self.result.service,
                pass_name=self.result.name,
                operation=operation,
                check=check.name,
                code=failure.code,
                title=failure.title,
                message=failure.message.strip(),
                phase=phase,
                reproduce=curls[-1] if curls else "",
                steps=tuple(curls[:-1]),
                rerun=self.rerun,
                answer=answer,
            )
        )
