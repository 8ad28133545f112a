"""Load profiles: YAML files parsed into typed models, with errors that say where.

A profile says how much load (users and spawn rate for a duration, or stages), what it must
meet (SLOs per request name), what goes wrong meanwhile (a fault schedule, the model of
`harness.faults`), and what the system must be seen doing (breaker assertions).
See `load/profiles/*.yaml` and `load/README.md` for the format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.assertions import Anchor, AssertionModel, BreakerAssertion, Scope
from harness.assertions.engine import assertion_type, kind_keys, problem_path
from harness.assertions.window import fault_key
from harness.faults import (
    EdgeFault,
    FaultScheduleError,
    ProcessFault,
    Seconds,
    check_targets,
    describe_validation_error,
    parse_fault_schedule,
    schedule_end,
)
from harness.load.results import TOTAL
from harness.references import rebase_reference
from harness.topology import EdgeField, ResolvedConventions, env_text

__all__ = [
    "Assertion",
    "Benchmark",
    "BreakerClosed",
    "BreakerOpened",
    "BreakerStayedClosed",
    "LoadProfile",
    "ProfileError",
    "RequestSLO",
    "Stage",
    "check_profile_against",
    "load_profile",
    "override",
    "parse_profile",
]


class ProfileError(ValueError):
    """A load profile is malformed; the message names the file, the key and the expectation."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveSeconds = Annotated[Seconds, Field(gt=0)]


class Stage(_Model):
    """Hold `users` users for `duration` seconds, reaching them at `spawn_rate` users/s."""

    duration: PositiveSeconds
    users: int = Field(ge=0)
    spawn_rate: float = Field(default=10.0, gt=0)


class RequestSLO(_Model):
    """Objectives for one request name (or `total`); every one given must hold."""

    p50_ms: float | None = Field(default=None, gt=0)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    max_failure_ratio: float | None = Field(default=None, ge=0, le=1)
    min_rps: float | None = Field(default=None, ge=0)
    min_requests: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _at_least_one(self) -> RequestSLO:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError(
                "expected at least one objective: p50_ms, p95_ms, p99_ms, "
                "max_failure_ratio, min_rps or min_requests"
            )
        return self


FaultRef = str | int


class BreakerOpened(_Model):
    """Shorthand: the edge's breaker was seen open during the fault's window.

    `grace` extends the window, since the breaker may trip on the last calls of the fault
    and a scrape comes about once a second. Parses into a `breaker` assertion.
    """

    type: Literal["breaker_opened"]
    edge: EdgeField
    during: FaultRef = Field(description="label or index of a fault in `faults`")
    grace: Seconds = 2.0

    def to_assertion(self, profile: LoadProfile) -> BreakerAssertion:
        index, fault = profile.fault(self.during)
        name = _fault_anchor_name(index, fault)
        return BreakerAssertion(
            name=f"breaker {self.edge} opened during {fault.describe()}",
            breaker=self.edge,
            state="open",
            after=Anchor(name=name, edge="start"),
            until=Anchor(name=name, edge="end", offset=self.grace),
        )


class BreakerClosed(_Model):
    """Shorthand: the edge's breaker was closed again within `within` seconds after the
    fault ended. Parses into a `breaker` assertion."""

    type: Literal["breaker_closed"]
    edge: EdgeField
    after: FaultRef = Field(description="label or index of a fault in `faults`")
    within: PositiveSeconds = 15.0

    def to_assertion(self, profile: LoadProfile) -> BreakerAssertion:
        index, fault = profile.fault(self.after)
        return BreakerAssertion(
            name=f"breaker {self.edge} closed within {self.within:g}s after {fault.describe()}",
            breaker=self.edge,
            state="closed",
            after=Anchor(name=_fault_anchor_name(index, fault), edge="end"),
            within=self.within,
        )


class BreakerStayedClosed(_Model):
    """Shorthand: the edge's breaker never left closed during the whole run (isolation: a
    fault elsewhere must not trip it). Parses into a `breaker` assertion."""

    type: Literal["breaker_stayed_closed"]
    edge: EdgeField

    def to_assertion(self, profile: LoadProfile) -> BreakerAssertion:
        return BreakerAssertion(
            name=f"breaker {self.edge} stayed closed",
            breaker=self.edge,
            state="closed",
            mode="always",
        )


Shorthand = BreakerOpened | BreakerClosed | BreakerStayedClosed
if TYPE_CHECKING:
    AnyAssertion = AssertionModel
else:
    AnyAssertion = assertion_type()
_SHORTHAND_TYPES = ("breaker_opened", "breaker_closed", "breaker_stayed_closed")


def _load_assertion_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str):
            return kind
        return "engine"
    if isinstance(value, BaseModel):
        return getattr(value, "type", "engine")
    return None


Assertion = Annotated[
    Annotated[BreakerOpened, Tag("breaker_opened")]
    | Annotated[BreakerClosed, Tag("breaker_closed")]
    | Annotated[BreakerStayedClosed, Tag("breaker_stayed_closed")]
    | Annotated[AnyAssertion, Tag("engine")],
    Discriminator(
        _load_assertion_kind,
        custom_error_type="load_assertion_kind",
        custom_error_message="an assertion is a shorthand (`type: breaker_opened`, "
        "`breaker_closed`, `breaker_stayed_closed`) or an assertion with one of the keys "
        + ", ".join(f"`{key}`" for key in kind_keys()),
    ),
]


# Tags pydantic puts into error paths for the assertion and fault unions.
_TAGS = frozenset({"edge", "process", "engine", *_SHORTHAND_TYPES, *kind_keys()})


def _fault_anchor_name(index: int, fault: EdgeFault | ProcessFault) -> str:
    """Shorthands anchor on the fault's place in the schedule (`fault-<index>`), which the
    executor's events always carry."""
    return fault_key(index)


class Benchmark(_Model):
    """Report the highest stage throughput of `request` that met the latency bound."""

    request: str = "POST /api/orders"
    p95_ms: float = Field(default=250.0, gt=0)
    max_failure_ratio: float = Field(default=0.01, ge=0, le=1)
    min_rps: float | None = Field(
        default=None, ge=0, description="gate: the sustainable rate must reach this (req/s)"
    )


class LoadProfile(_Model):
    """A parsed profile. Paths are absolute (resolved against the profile's directory)."""

    name: str = Field(min_length=1)
    description: str = ""
    source: str = Field(default="<profile>", description="the file it came from, for messages")
    locustfile: Path
    user_classes: list[str] = Field(default_factory=list)
    topology: Path | None = None
    host_service: str = "gateway"
    host: str | None = Field(default=None, description="Locust --host; default: host_service's URL")
    users: int | None = Field(default=None, ge=1)
    spawn_rate: float | None = Field(default=None, gt=0)
    duration: PositiveSeconds | None = None
    stages: list[Stage] | None = None
    env: dict[str, str] = Field(default_factory=dict, description="for the Locust processes")
    service_env: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="extra environment per service of the started system (run_profile only)",
    )
    slos: dict[str, RequestSLO] = Field(default_factory=dict)
    faults: list[EdgeFault | ProcessFault] = Field(default_factory=list)
    assertions: list[Assertion] = Field(default_factory=list)
    invariants: list[str] = Field(
        default_factory=list, description="'path/to/file.py:function' or 'module:function'"
    )
    invariants_settle: Seconds = Field(
        default=15.0, description="how long a failing invariant is retried after the load"
    )
    benchmark: Benchmark | None = None
    scrape_interval: PositiveSeconds = 1.0

    @field_validator("env", mode="before")
    @classmethod
    def _env_as_strings(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("service_env", mode="before")
    @classmethod
    def _service_env_as_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {service: _strings(env) for service, env in value.items()}
        return value

    @model_validator(mode="after")
    def _load_shape(self) -> LoadProfile:
        if self.stages is not None:
            if self.duration is not None or self.users is not None:
                raise ValueError(
                    "give either `stages` or `users`/`spawn_rate`/`duration`, not both"
                )
            if not self.stages:
                raise ValueError("`stages` must list at least one stage")
        elif self.duration is None or self.users is None:
            raise ValueError(
                "expected `users` and `duration` (with optional `spawn_rate`), or `stages`"
            )
        return self

    @model_validator(mode="after")
    def _faults_fit_the_run(self) -> LoadProfile:
        end = schedule_end(self.faults)
        if end > self.total_duration:
            raise ValueError(
                f"the fault schedule runs until t={end:g}s but the load lasts "
                f"{self.total_duration:g}s; expected every fault to end within the run"
            )
        known = {"start", "end"} | {fault_key(index) for index in range(len(self.faults))}
        known |= {fault.label for fault in self.faults if fault.label}
        scope = Scope(anchor_names=known, traffic=False)
        for index, assertion in enumerate(self.assertions):
            if isinstance(assertion, AssertionModel):
                for anchor in assertion.anchors():
                    if anchor.name not in known:
                        raise ValueError(
                            f"assertions.{index}: unknown anchor {anchor.name!r}; expected "
                            f"start, end or a fault label ({', '.join(sorted(known))})"
                        )
                for problem in assertion.problems(scope):
                    raise ValueError(problem_path(f"assertions.{index}", problem))
                continue
            if isinstance(assertion, BreakerOpened):
                self._fault_index(assertion.during, where=f"assertions.{index}")
            elif isinstance(assertion, BreakerClosed):
                self._fault_index(assertion.after, where=f"assertions.{index}")
        return self

    def engine_assertions(self) -> list[AssertionModel]:
        """Every assertion as the engine judges it (shorthands parsed into `breaker`)."""
        return [
            assertion if isinstance(assertion, AssertionModel) else assertion.to_assertion(self)
            for assertion in self.assertions
        ]

    @property
    def total_duration(self) -> float:
        if self.stages is not None:
            return sum(stage.duration for stage in self.stages)
        assert self.duration is not None
        return self.duration

    @property
    def load_stages(self) -> list[Stage]:
        """The load as stages (a constant load is one stage)."""
        if self.stages is not None:
            return list(self.stages)
        assert self.duration is not None
        assert self.users is not None
        spawn_rate = self.spawn_rate if self.spawn_rate is not None else float(self.users)
        return [Stage(duration=self.duration, users=self.users, spawn_rate=spawn_rate)]

    def fault(self, ref: FaultRef) -> tuple[int, EdgeFault | ProcessFault]:
        index = self._fault_index(ref, where="assertion")
        return index, self.faults[index]

    def _fault_index(self, ref: FaultRef, *, where: str) -> int:
        if isinstance(ref, int):
            if 0 <= ref < len(self.faults):
                return ref
        else:
            for index, fault in enumerate(self.faults):
                if fault.label == ref:
                    return index
        labels = [f.label for f in self.faults if f.label] or ["(no labelled faults)"]
        raise ValueError(
            f"{where}: no fault {ref!r}; expected a fault label ({', '.join(labels)}) "
            f"or an index below {len(self.faults)}"
        )


def check_profile_against(
    profile: LoadProfile,
    *,
    edges: Iterable[str],
    services: Iterable[str],
    conventions: Callable[[str], ResolvedConventions] | None = None,
) -> None:
    """Raise ProfileError naming every fault or assertion the system cannot serve: unknown
    edges and services, breaker assertions on a service with no breaker convention, ...
    (`conventions` None: conventions are not checked)."""
    edges, services = sorted(edges), sorted(services)
    try:
        check_targets(profile.faults, edges=edges, services=services, source=profile.source)
    except FaultScheduleError as exc:
        raise ProfileError(str(exc)) from None
    scope = Scope(services=services, edges=edges, conventions=conventions)
    problems = [
        problem_path(f"assertions.{index}", problem)
        for index, assertion in enumerate(profile.engine_assertions())
        for problem in assertion.problems(scope)
    ]
    if problems:
        raise ProfileError("\n".join(f"{profile.source}: {problem}" for problem in problems))


def _strings(value: Any) -> Any:
    """YAML gives `0`, `true`: environment values are text."""
    if isinstance(value, dict):
        return {str(k): env_text(v) for k, v in value.items()}
    return value


def override(
    profile: LoadProfile,
    *,
    users: int | None = None,
    spawn_rate: float | None = None,
    duration: float | None = None,
    seed: int | None = None,
) -> LoadProfile:
    """`profile` with the command line's `-u/-r/--duration/--seed` in place of its own;
    ProfileError when they do not fit it (a staged profile, faults past the new end)."""
    updates: dict[str, Any] = {
        key: value
        for key, value in (("users", users), ("spawn_rate", spawn_rate), ("duration", duration))
        if value is not None
    }
    if updates and profile.stages is not None:
        raise ProfileError(
            f"{profile.source}: stages: this profile runs in stages; --users, --spawn-rate "
            "and --duration apply only to a constant load (`users` and `duration`)"
        )
    if seed is not None:
        updates["env"] = {**profile.env, "HARNESS_LOAD_SEED": str(seed)}
    if not updates:
        return profile
    fields = {name: getattr(profile, name) for name in type(profile).model_fields}
    try:
        return type(profile).model_validate({**fields, **updates})
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        raise ProfileError(
            f"{profile.source}: with the command line's overrides: {problems}"
        ) from None


def load_profile(path: Path | str) -> LoadProfile:
    """Read and validate a profile file; raise ProfileError naming the file, key and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ProfileError(f"{path}{where}: not valid YAML: {exc}") from exc
    return parse_profile(data, source=str(path), base_dir=path.parent)


def parse_profile(
    data: object, *, source: str = "<profile>", base_dir: Path | None = None
) -> LoadProfile:
    """Validate profile data (a mapping, as read from YAML) into a LoadProfile.

    Relative `locustfile`, `topology` and invariant file paths are resolved against
    `base_dir` (default: the current directory).
    """
    if not isinstance(data, dict):
        raise ProfileError(
            f"{source}: expected a mapping of profile keys, got {type(data).__name__}"
        )
    raw = dict(data)
    base = (base_dir or Path.cwd()).resolve()
    try:
        raw["faults"] = parse_fault_schedule(raw.get("faults") or [], source=source)
    except FaultScheduleError as exc:
        raise ProfileError(str(exc)) from exc
    for key in ("locustfile", "topology"):
        if isinstance(raw.get(key), str):
            raw[key] = (base / raw[key]).resolve()
    if isinstance(raw.get("invariants"), list):
        raw["invariants"] = [  # a file is named relative to the profile
            rebase_reference(item, base) if isinstance(item, str) else item
            for item in raw["invariants"]
        ]
    raw.setdefault("name", Path(source).stem)
    raw["source"] = source
    try:
        profile = LoadProfile.model_validate(raw)
    except ValidationError as exc:
        message = describe_validation_error(exc, source=source, union_tags=_TAGS)
        raise ProfileError(message) from exc
    if not profile.locustfile.is_file():
        raise ProfileError(f"{source}: locustfile: no such file {profile.locustfile}")
    if TOTAL in profile.slos and not profile.slos[TOTAL]:
        raise ProfileError(f"{source}: slos.{TOTAL}: expected at least one objective")
    return profile
