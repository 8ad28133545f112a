"""The experiment file format, as typed models.

An experiment (YAML, see `chaos/README.md`) has a steady-state hypothesis checked before
and after, a method (timed faults from `harness.faults`, background traffic or a
Locust load), assertions on what must happen during and after the faults, and a rollback
that always runs. Every user-written key is validated here; `harness.chaos.loader` turns
validation errors into messages naming the file, the key path and the expectation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

from harness.assertions import (
    Anchor,
    AssertionModel,
    BreakerAssertion,
    HttpAssertion,
    InvariantAssertion,
    MetricAssertion,
    MetricRef,
    Scope,
    TrafficAssertion,
)
from harness.assertions.compare import Compared
from harness.assertions.engine import assertion_type, kind_keys, problem_path
from harness.assertions.probing import HttpExpectation, HttpRequest
from harness.faults import (
    EdgeFault,
    FaultSpec,
    ProcessFault,
    Seconds,
    schedule_end,
)
from harness.topology import EdgeField, EnvValue, env_text
from harness.traffic import TrafficSpec

__all__ = [
    "ASSERTION_TAGS",
    "Anchor",
    "Assertion",
    "BreakerAssertion",
    "BreakerProbe",
    "Experiment",
    "HttpAssertion",
    "HttpProbe",
    "HttpRequest",
    "InvariantAssertion",
    "InvariantProbe",
    "LoadSpec",
    "Method",
    "MetricAssertion",
    "MetricProbe",
    "MetricRef",
    "Probe",
    "Rollback",
    "SteadyState",
    "TrafficAssertion",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Retried(_Model):
    """Probes that may be retried until they hold: every `interval` up to `within`."""

    within: Seconds = 0.0
    interval: Seconds = Field(default=0.5, gt=0)


# --- steady-state probes -----------------------------------------------------------------


class HttpProbe(HttpExpectation, _Retried):
    """The service answers `status` (and `json_contains`)."""

    name: str


class MetricProbe(MetricRef, Compared, _Retried):
    """One scrape of a service's metric, compared with a tolerance."""

    name: str


class BreakerProbe(_Retried):
    """The breaker of an edge is in `state` now (read as its source's breaker convention)."""

    name: str
    breaker: EdgeField
    state: str = "closed"


class InvariantProbe(_Retried):
    """An invariant checker (`file.py:function` or `module:function`) reports no violation."""

    name: str
    invariant: str
    rules: list[str] | None = None


def _probe_kind(value: Any) -> str | None:
    return _kind_of(value, ("http", "metric", "breaker", "invariant"))


def _kind_of(value: Any, kinds: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        return next((kind for kind in kinds if kind in value), None)
    for kind in kinds:
        if hasattr(value, kind):
            return kind
    return None


Probe = Annotated[
    Annotated[HttpProbe, Tag("http")]
    | Annotated[MetricProbe, Tag("metric")]
    | Annotated[BreakerProbe, Tag("breaker")]
    | Annotated[InvariantProbe, Tag("invariant")],
    Discriminator(
        _probe_kind,
        custom_error_type="probe_kind",
        custom_error_message="a probe has one of the keys `http`, `metric`, `breaker`, `invariant`",
    ),
]


class SteadyState(_Model):
    """Probes that must hold before the method runs and again after rollback."""

    title: str = "the system is healthy"
    probes: list[Probe] = Field(default_factory=list)


# --- assertions: the engine's registered kinds (harness.assertions.kinds) ----------------

ASSERTION_TAGS = frozenset(kind_keys()) | {"edge", "process"}
if TYPE_CHECKING:
    Assertion = AssertionModel
else:
    Assertion = assertion_type()


# --- the method --------------------------------------------------------------------------


class LoadSpec(_Model):
    """A Locust load profile (see `load/`) run by the load layer during the method."""

    profile: str


class Method(_Model):
    """What happens: timed faults, and traffic or load to make them matter."""

    faults: list[FaultSpec] = Field(default_factory=list)
    traffic: TrafficSpec | None = Field(
        default=None, description="declared requests, or a user's class (harness.traffic)"
    )
    load: LoadSpec | None = None
    duration: Seconds | None = Field(
        default=None, description="default: the end of the last fault or of the traffic"
    )
    after_faults: Seconds = Field(
        default=0.0,
        description="the method lasts at least this long after the last fault was really "
        "removed (a restart that takes longer than planned stretches the method)",
    )

    @model_validator(mode="after")
    def _long_enough(self) -> Method:
        end = schedule_end(self.faults)
        if self.duration is not None and self.duration < end:
            raise ValueError(
                f"`duration` is {self.duration:g}s but the faults run until {end:g}s; "
                "expected a duration covering every fault"
            )
        return self

    @property
    def effective_duration(self) -> float:
        """How long the method lasts: `duration`, else the end of faults and traffic."""
        if self.duration is not None:
            return self.duration
        end = schedule_end(self.faults)
        if self.traffic is not None and self.traffic.duration is not None:
            end = max(end, self.traffic.start + self.traffic.duration)
        return end

    @property
    def traffic_duration(self) -> float | None:
        """Seconds of traffic: its own `duration`, else None (it runs until the method ends)."""
        if self.traffic is None:
            return 0.0
        return self.traffic.duration


class Rollback(_Model):
    """Rollback always runs: the schedule undoes its faults (toxics removed, partitions
    healed, processes resumed or restarted); `reset_faults` also resets every proxy."""

    reset_faults: bool = True


# --- the experiment ----------------------------------------------------------------------


class Experiment(_Model):
    title: str = Field(min_length=1)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    seed: int | None = Field(default=None, description="default seed; --seed overrides it")
    env: dict[str, EnvValue] = Field(
        default_factory=dict, description="service settings the experiment needs"
    )
    steady_state: SteadyState = Field(default_factory=SteadyState)
    method: Method
    assertions: list[Assertion] = Field(default_factory=list)
    rollback: Rollback = Field(default_factory=Rollback)
    timeout: Seconds = Field(default=120.0, gt=0, description="hard limit for the whole run")

    _source: str = PrivateAttr(default="<experiment>")

    @property
    def source(self) -> str:
        """The file the experiment was loaded from (for messages and replay commands)."""
        return self._source

    @model_validator(mode="after")
    def _names_resolve(self) -> Experiment:
        labels = {fault.label for fault in self.method.faults if fault.label}
        known = {"start", "end", "traffic"} | labels
        scope = Scope(anchor_names=known, traffic=self.method.traffic is not None)
        for index, assertion in enumerate(self.assertions):
            for anchor in assertion.anchors():
                if anchor.name not in known:
                    choices = ", ".join(sorted(labels)) or "none"
                    raise ValueError(
                        f"assertions.{index}: unknown anchor {anchor.name!r}; expected "
                        f"start, end, traffic or a fault label ({choices})"
                    )
            for problem in assertion.problems(scope):
                raise ValueError(problem_path(f"assertions.{index}", problem))
        names = [assertion.name for assertion in self.assertions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"assertion names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def faults(self) -> list[EdgeFault | ProcessFault]:
        return list(self.method.faults)

    @property
    def env_text(self) -> dict[str, str]:
        """`env` as the strings a process receives (booleans as true/false)."""
        return {key: env_text(value) for key, value in self.env.items()}
