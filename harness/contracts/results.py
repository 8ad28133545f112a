"""What a contracts run found, as models that serialise to the JSON report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.contracts.coverage import EdgeCoverage

__all__ = ["ContractsResult", "InteractionResult", "ProviderResult"]


class InteractionResult(BaseModel):
    """One interaction replayed against its provider."""

    model_config = ConfigDict(frozen=True)

    consumer: str
    provider: str
    description: str
    states: tuple[str, ...] = ()
    passed: bool
    pending: bool = False
    # "$.email: Actual map is missing the following keys: email", one per mismatch.
    mismatches: tuple[str, ...] = ()
    seconds: float | None = None  # the verifier's own measure ("duration": "9ms")

    @classmethod
    def from_verifier(cls, item: dict[str, Any]) -> InteractionResult:
        """From one entry of pact's `Verifier.results["interactionResults"]`."""
        return cls(
            consumer=str(item.get("consumer", "")),
            provider=str(item.get("provider", "")),
            description=str(item.get("description", "")),
            states=tuple(str(s) for s in item.get("providerStates", [])),
            passed=item.get("result") == "OK",
            pending=bool(item.get("pending", False)),
            mismatches=tuple(_mismatches(item.get("mismatch"))),
            seconds=_seconds(item.get("duration")),
        )

    @property
    def summary(self) -> str:
        """`description: first mismatch` (`(+N more)` when there are others)."""
        if not self.mismatches:
            return f"{self.description}: {'passed' if self.passed else 'failed'}"
        more = f" (+{len(self.mismatches) - 1} more)" if len(self.mismatches) > 1 else ""
        return f"{self.description}: {self.mismatches[0]}{more}"


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|us|µs|ns|h|m|s)\b")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def _seconds(duration: Any) -> float | None:
    """The verifier's duration text ("9ms", "1s 234ms") in seconds; None when absent."""
    if not isinstance(duration, str):
        return None
    parts = _DURATION_PART.findall(duration)
    if not parts:
        return None
    return sum(float(value) * _UNIT_SECONDS[unit] for value, unit in parts)


def _mismatches(mismatch: Any) -> list[str]:
    if not isinstance(mismatch, dict):
        return []
    if mismatch.get("type") != "mismatches":
        # e.g. {"type": "error", "message": "State change request failed ..."}
        return [str(mismatch.get("message") or mismatch)]
    lines = []
    for item in mismatch.get("mismatches", []):
        text = str(item.get("mismatch") or item)
        where = item.get("path") or item.get("key")
        # A status mismatch has no path: "expected 200 but was 202" says it all.
        lines.append(f"{where}: {text}" if where else text)
    return lines


class ProviderResult(BaseModel):
    """One provider verified against every pact naming it."""

    provider: str
    url: str | None = None
    source: str  # the pact files (or the broker) verified
    passed: bool
    interactions: list[InteractionResult] = Field(default_factory=list)
    # The verifier's own report (no colours); shown in full when something failed.
    output: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[InteractionResult]:
        return [i for i in self.interactions if not i.passed]

    @property
    def first_failure(self) -> str | None:
        """`an order event ...: expected 200 but was 202`: the first thing that failed."""
        for item in self.failed:
            return item.summary
        if not self.passed:
            return self.error or "verification failed (see the verifier output)"
        return None


class ContractsResult(BaseModel):
    """A whole run: every provider's verification and the edges the pacts cover."""

    passed: bool
    providers: list[ProviderResult]
    coverage: list[EdgeCoverage]
    other_pacts: list[str] = Field(default_factory=list)  # pacts matching no call edge
    notes: list[str] = Field(default_factory=list)  # pacts that could not be verified here
    figures: dict[str, int | float] = Field(default_factory=dict)
    report_path: Path | None = None

    @property
    def interactions(self) -> list[InteractionResult]:
        return [i for p in self.providers for i in p.interactions]

    @property
    def uncovered_edges(self) -> list[str]:
        return [row.edge for row in self.coverage if not row.covered]
