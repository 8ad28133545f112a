"""`FuzzOptions`: everything a fuzzing run can be told, with its documented defaults."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.fuzz.checks import DEFAULT_IDEMPOTENCY_HEADER, DEFAULT_OUTAGE_STATUSES
from harness.fuzz.defaults import ALL_PHASES, DEFAULT_MAX_EXAMPLES, DEFAULT_SEED
from harness.fuzz.prepare import Prepare

__all__ = ["DEFAULT_MAX_EXAMPLES", "DEFAULT_SEED", "FuzzOptions"]


@dataclass(frozen=True, kw_only=True)
class FuzzOptions:
    """Settings of `run_fuzz` / `harness fuzz` (all keyword-only, all optional).

    - `seed` (DEFAULT_SEED): the same seed, budget and system give the same requests, as long
      as the system answers the same: the stateful phase follows links from the answers, so a
      system that answers otherwise (slower under load, timing out) is sent other requests
      (each pass's `fingerprint` tells the two cases apart).
    - `max_examples` (DEFAULT_MAX_EXAMPLES): generated examples per operation in the fuzzing
      and stateful phases (the examples and coverage phases are deterministic and add their
      own cases).
    - `services` (all): the services to fuzz; the others still run, as dependencies.
    - `phases` (all four): schemathesis phases of the ordinary pass.
    - `fault_passes` (True): after the ordinary passes, fuzz each service again once per
      dependency edge, with that edge partitioned through its fault proxy.
    - `fault_max_examples` (None: a third of `max_examples`, at least 5): the budget of a
      fault pass (fuzzing phase only).
    - `openapi_paths` ({}): a service's document path, over its `openapi` convention.
    - `schemathesis_config` (None): a `schemathesis.toml` with per-API settings (auth,
      expected statuses); the harness's seed, budget and checks override it.
    - `idempotency_header` ("Idempotency-Key"): the header whose requests must replay.
    - `outage_statuses` ((503,)): the 5xx a caller may answer while a dependency is down.
    - `settle_seconds` (0): how long at most to wait after healing a partition before the
      next pass (the wait ends once the caller's breaker, read as its convention declares,
      no longer reads open), so that the next pass does not only see the previous edge's
      open breaker.
    - `parallel` (None: the topology's `[fuzz] parallel`, else 1): services fuzzed at once
      when the run starts the system, each worker process on a system of its own (a pass
      runs on one core; its partitions cut only its own system).
    - `env` ({}): environment added to every service when the run starts the system (e.g.
      a shorter breaker open time, to settle faster).
    - `prepare` (None): puts test data in place once the system is up, before any pass: a
      callable taking the `RunningSystem`, or its name ("file.py:function",
      "package.module:function"; only a name can be part of the rerun command).
    - `out_dir` (None: `runs/fuzz/<time>`): where report.json and junit.xml go.
    - `junit_path` (None: `<out_dir>/junit.xml`).
    """

    seed: int = DEFAULT_SEED
    max_examples: int = DEFAULT_MAX_EXAMPLES
    services: Sequence[str] | None = None
    phases: Sequence[str] = ALL_PHASES
    fault_passes: bool = True
    fault_max_examples: int | None = None
    openapi_paths: Mapping[str, str] = field(default_factory=dict)
    schemathesis_config: Path | None = None
    idempotency_header: str = DEFAULT_IDEMPOTENCY_HEADER
    outage_statuses: Sequence[int] = DEFAULT_OUTAGE_STATUSES
    settle_seconds: float = 0.0
    parallel: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: str | Prepare | None = None
    out_dir: Path | None = None
    junit_path: Path | None = None

    def __post_init__(self) -> None:
        if self.max_examples < 1:
            raise ValueError(f"max_examples must be at least 1, got {self.max_examples}")
        if self.fault_max_examples is not None and self.fault_max_examples < 1:
            raise ValueError(
                f"fault_max_examples must be at least 1, got {self.fault_max_examples}"
            )
        unknown = [phase for phase in self.phases if phase not in ALL_PHASES]
        if unknown:
            raise ValueError(
                f"unknown phase(s) {', '.join(unknown)}; expected some of {', '.join(ALL_PHASES)}"
            )
        if self.parallel is not None and self.parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {self.parallel}")
        if self.settle_seconds < 0:
            raise ValueError(f"settle_seconds must be >= 0, got {self.settle_seconds}")
        for service, path in self.openapi_paths.items():
            if path and not path.startswith("/"):
                raise ValueError(
                    f"openapi path of {service} must start with '/' (or be \"\"), got {path!r}"
                )

    @property
    def fault_budget(self) -> int:
        if self.fault_max_examples is not None:
            return self.fault_max_examples
        return max(5, self.max_examples // 3)

    def rerun_command(self, *, topology: Path | None, service: str | None = None) -> str:
        """The `harness fuzz run` command that runs the same seeded pass(es) again."""
        parts = ["harness", "fuzz", "run"]
        if topology is not None:
            parts += ["-t", str(topology)]
        if service is not None:
            parts += ["--service", service]
        parts += ["--seed", str(self.seed), "--max-examples", str(self.max_examples)]
        if self.fault_max_examples is not None:
            parts += ["--fault-max-examples", str(self.fault_max_examples)]
        if tuple(self.phases) != ALL_PHASES:
            parts += ["--phases", ",".join(self.phases)]
        if not self.fault_passes:
            parts.append("--no-faults")
        if self.settle_seconds:
            parts += ["--settle", f"{self.settle_seconds:g}"]
        for key, value in sorted(self.env.items()):
            parts += ["--env", f"{key}={value}"]
        if self.schemathesis_config is not None:
            parts += ["--config", str(self.schemathesis_config)]
        if isinstance(self.prepare, str):
            parts += ["--prepare", self.prepare]
        for name, path in sorted(self.openapi_paths.items()):
            parts += ["--openapi-path", f"{name}={path}"]
        return shlex.join(parts)
