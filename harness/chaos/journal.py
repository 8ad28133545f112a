"""The JSON journal of a run: enough to walk through the run without having watched it.

Modelled on Chaos Toolkit's journal (experiment, status, deviated, start/end/duration,
steady states before and after, a timeline of every action, rollbacks) and extended with
what this harness adds: each assertion with its evidence, the seed and the command that
replays the run, the traffic the clients saw, and the metric series the verdicts read.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.chaos.result import ExperimentResult
from harness.traffic import request_counts

__all__ = ["JOURNAL_VERSION", "journal_dict", "write_journal"]

JOURNAL_VERSION = 1


def _iso(at: float) -> str | None:
    return datetime.fromtimestamp(at, tz=UTC).isoformat() if at else None


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
            "before": [probe.to_dict() for probe in result.steady_before],
            "after": [probe.to_dict() for probe in result.steady_after],
        },
        "assertions": [assertion.to_dict() for assertion in result.assertions],
        "anchors": dict(result.anchors),
        "timeline": [event.to_dict() for event in result.events],
        "faults": [event.model_dump(mode="json") for event in result.fault_events],
        "traffic": {
            "context": dict(result.traffic_context),
            "paths": request_counts(result.traffic),
            "requests": [record.to_dict() for record in result.traffic],
        },
        "load": dict(result.load) if result.load is not None else None,
        "metrics": dict(result.metrics),
        "breakers": {edge: list(points) for edge, points in result.breaker_series.items()},
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
