"""The JSON journal of a run: enough to walk through the run without having watched it.

Modelled on Chaos Toolkit's journal (experiment, status, deviated, start/end/duration,
steady states before and after, a timeline of every action, rollbacks) and extended with
what this harness adds: each assertion with its evidence, the seed and the command that
replays the run, the traffic the clients saw, and the metric series the verdicts read.

Format: `journal_version` 2, schema `harness/schemas/journal.schema.json`, described in
docs/formats.md. Every absolute time is ISO 8601 UTC (version 1 had epoch floats in the
timeline, steady states, faults, traffic and metric series); times relative to the run
are seconds in fields that say so (`offset`, `resolved_at`, anchors, evidence windows).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from harness.chaos.result import ExperimentResult
from harness.schemas import DOCUMENTS, iso_utc
from harness.traffic import request_counts

__all__ = ["JOURNAL_VERSION", "journal_dict", "write_journal"]

JOURNAL_VERSION = DOCUMENTS["journal"].current


def _iso(at: float) -> str | None:
    return iso_utc(at) if at else None


def _with_iso(record: dict[str, Any], key: str) -> dict[str, Any]:
    """`record` with its epoch time under `key` as ISO 8601 UTC."""
    value = record.get(key)
    if isinstance(value, int | float):
        return {**record, key: iso_utc(value)}
    return record


def _metric_series(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        service: [_with_iso(dict(sample), "t") for sample in samples]
        for service, samples in metrics.items()
    }


def journal_dict(result: ExperimentResult) -> dict[str, Any]:
    experiment = result.experiment
    return {
        "journal_version": JOURNAL_VERSION,
        "experiment": {
            "source": experiment.source,
            **experiment.model_dump(mode="json", by_alias=True),
        },
        "status": result.status,
        "reason": result.reason,
        "deviated": result.deviated,
        "seed": result.seed,
        "replay": result.replay_command,
        "start": _iso(result.started_at),
        "end": _iso(result.ended_at),
        "duration": round(result.duration, 3),
        "system": dict(result.system),
        "steady_states": {
            "before": [_with_iso(probe.to_dict(), "at") for probe in result.steady_before],
            "after": [_with_iso(probe.to_dict(), "at") for probe in result.steady_after],
        },
        "assertions": [assertion.to_dict() for assertion in result.assertions],
        "anchors": dict(result.anchors),
        "timeline": [_with_iso(event.to_dict(), "at") for event in result.events],
        "faults": [event.model_dump(mode="json") for event in result.fault_events],
        "traffic": {
            "context": dict(result.traffic_context),
            "paths": request_counts(result.traffic),
            "requests": [_with_iso(record.to_dict(), "started_at") for record in result.traffic],
        },
        "load": dict(result.load) if result.load is not None else None,
        "metrics": _metric_series(dict(result.metrics)),
        "breakers": {
            edge: [[iso_utc(t), value] for t, value in points]
            for edge, points in result.breaker_series.items()
        },
        "scrape_failures": len(result.scrape_failures),
        "scrape_failure_details": list(result.scrape_failures),
        "errors": list(result.errors),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "experiment"


def journal_stem(result: ExperimentResult) -> str:
    """`<experiment file stem>-<UTC time>`: the journal and the HTML report share it."""
    source = result.experiment.source
    name = (
        Path(source).stem
        if source and not source.startswith("<")
        else _slug(result.experiment.title)
    )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(result.started_at or time.time()))
    return f"{name}-{stamp}"


def write_journal(result: ExperimentResult, directory: Path) -> Path:
    """Write `<stem>.json` into `directory` (created if needed); return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{journal_stem(result)}.json"
    path.write_text(json.dumps(journal_dict(result), indent=2, default=str), encoding="utf-8")
    return path
