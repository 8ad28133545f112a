"""The experiment file format, as typed models.

An experiment (YAML, see `chaos/README.md`) has a steady-state hypothesis checked before
and after, a method (timed faults from `harness.faults`, background traffic or a
Locust load), assertions on what must happen during and after the faults, and a rollback
that always runs. Every user-written key is validated here; `harness.chaos.loader` turns
validation errors into messages naming the file, the key path and the expectation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from harness.faults import (
    EdgeFault,
    FaultSpec,
    ProcessFault,
    Seconds,
    parse_seconds,
    schedule_end,
)
from harness.topology import EnvValue, env_text
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

BREAKER_STATES: dict[str, int] = {"closed": 0, "open": 1, "half_open": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- anchors: points in time an assertion's window is measured from ---------------------

_ANCHOR = re.compile(
    r"^\s*(?P<name>[A-Za-z_][\w-]*)(?:\.(?P<edge>start|end))?"
    r"\s*(?:(?P<sign>[+-])\s*(?P<offset>\d+(?:\.\d+)?\s*(?:ms|s|m)?))?\s*$"
)


class Anchor(_Model):
    """`slow-payments.end + 2s`: the moment a named event happened, shifted by an offset.

    Names: `start` / `end` of the method, `traffic` (its `.start` / `.end`), or a fault's
    `label` (`.start` when it was applied, `.end` when it was removed; bare = `.start`).
    """

    name: str
    edge: Literal["start", "end"] = "start"
    offset: float = 0.0

    def __str__(self) -> str:
        base = self.name if self.name in ("start", "end") else f"{self.name}.{self.edge}"
        if not self.offset:
            return base
        sign = "+" if self.offset > 0 else "-"
        return f"{base} {sign} {abs(self.offset):g}s"


def _parse_anchor(value: object) -> object:
    if isinstance(value, str):
        match = _ANCHOR.match(value)
        if match is None:
            raise ValueError(
                f"expected an anchor such as 'start', 'end', '<fault label>.start' or "
                f"'<fault label>.end + 2s', got {value!r}"
            )
        name = match.group("name")
        edge = match.group("edge") or ("end" if name == "end" else "start")
        offset = 0.0
        if match.group("offset"):
            seconds = parse_seconds(match.group("offset"))
            assert isinstance(seconds, float)
            offset = seconds if match.group("sign") == "+" else -seconds
        return {"name": name, "edge": edge, "offset": offset}
    return value


AnchorField = Annotated[Anchor, BeforeValidator(_parse_anchor), PlainSerializer(str)]
# Numbers in comparisons may be durations ("500ms") when they bound a latency.
Number = Annotated[float, BeforeValidator(parse_seconds)]


# --- shared pieces -----------------------------------------------------------------------


class _Compared(_Model):
    """Exactly one of `equals`, `at_least`, `at_most`, `above`, `below`."""

    equals: Number | None = None
    at_least: Number | None = None
    at_most: Number | None = None
    above: Number | None = None
    below: Number | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> _Compared:
        given = [key for key in _COMPARISONS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of equals, at_least, at_most, above, below"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def comparison(self) -> tuple[str, float]:
        for key in _COMPARISONS:
            value = getattr(self, key)
            if value is not None:
                return key, float(value)
        raise ValueError("no comparison")

    def compare(self, value: float) -> bool:
        op, bound = self.comparison
        return bool(_COMPARISONS[op][1](value, bound))

    def describe_comparison(self) -> str:
        op, bound = self.comparison
        return f"{_COMPARISONS[op][0]} {bound:g}"


_COMPARISONS: dict[str, tuple[str, Any]] = {
    "equals": ("==", lambda v, b: v == b),
    "at_least": (">=", lambda v, b: v >= b),
    "at_most": ("<=", lambda v, b: v <= b),
    "above": (">", lambda v, b: v > b),
    "below": ("<", lambda v, b: v < b),
}


class _Windowed(_Model):
    """A window `[after, after + within]` or `[after, until]`; default `[start, end]`."""

    after: AnchorField = Field(default_factory=lambda: Anchor(name="start"))
    within: Seconds | None = None
    until: AnchorField | None = None

    @model_validator(mode="after")
    def _one_end(self) -> _Windowed:
        if self.within is not None and self.until is not None:
            raise ValueError("give either `within` or `until`, not both")
        return self

    def anchors(self) -> list[Anchor]:
        return [self.after] + ([self.until] if self.until is not None else [])

    def describe_window(self) -> str:
        if self.within is not None:
            return f"within {self.within:g}s of {self.after}"
        return f"from {self.after} until {self.until or 'end'}"


class HttpRequest(_Model):
    """One HTTP request to a service (its direct URL, not through a proxy)."""

    service: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    path: str = "/health"
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    token: str | None = Field(default=None, description="sent as `Authorization: Bearer`")
    timeout: Seconds = 2.0

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"expected a path starting with '/', got {path!r}")
        return path

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, method: object) -> object:
        return method.upper() if isinstance(method, str) else method


def _as_list(value: object) -> object:
    return [value] if isinstance(value, int) else value


class HttpExpectation(_Model):
    http: HttpRequest
    status: Annotated[list[int], BeforeValidator(_as_list)] = Field(default_factory=lambda: [200])
    json_contains: dict[str, Any] = Field(
        default_factory=dict, description="keys (dotted for nesting) the JSON body must have"
    )


class MetricRef(_Model):
    """A metric of one service: `name{labels}` summed over matching series."""

    metric: str = Field(min_length=1)
    service: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_strings(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    def describe_metric(self) -> str:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.service}:{self.metric}{{{labels}}}"


def _check_edge(value: str) -> str:
    source, sep, target = value.partition("->")
    if not sep or not source.strip() or not target.strip():
        raise ValueError(f"expected an edge as 'caller->callee', got {value!r}")
    return f"{source.strip()}->{target.strip()}"


EdgeName = Annotated[str, BeforeValidator(lambda v: _check_edge(v) if isinstance(v, str) else v)]
BreakerState = Literal["closed", "open", "half_open"]
_TRANSITION = re.compile(r"^\s*(closed|open|half_open)\s*->\s*(closed|open|half_open)\s*$")


def _transition(value: object) -> object:
    if isinstance(value, str):
        match = _TRANSITION.match(value)
        if match is None:
            raise ValueError(f"expected a transition such as 'open->half_open', got {value!r}")
        return (match.group(1), match.group(2))
    return value


Transition = Annotated[tuple[BreakerState, BreakerState], BeforeValidator(_transition)]


class _Retried(_Model):
    """Probes that may be retried until they hold: every `interval` up to `within`."""

    within: Seconds = 0.0
    interval: Seconds = Field(default=0.5, gt=0)


# --- steady-state probes -----------------------------------------------------------------


class HttpProbe(HttpExpectation, _Retried):
    """The service answers `status` (and `json_contains`)."""

    name: str


class MetricProbe(MetricRef, _Compared, _Retried):
    """One scrape of a service's metric, compared with a tolerance."""

    name: str


class BreakerProbe(_Retried):
    """The breaker of an edge is in `state` now."""

    name: str
    breaker: EdgeName
    state: BreakerState = "closed"


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


# --- assertions --------------------------------------------------------------------------

Mode = Literal["eventually", "always", "overall"]


class MetricAssertion(MetricRef, _Compared, _Windowed):
    """A metric read from the timeline over a window.

    `measure: value` compares each scrape (`mode: eventually` by default: some scrape in
    the window satisfies it; `always`: every scrape does). `measure: increase` compares
    how much a counter grew over the window (`mode: overall`), optionally divided by the
    increase of `per` (e.g. retries per request).
    """

    name: str
    measure: Literal["value", "increase"] = "value"
    per: MetricRef | None = None
    mode: Mode | None = None

    @model_validator(mode="after")
    def _mode_fits_measure(self) -> MetricAssertion:
        if self.per is not None and self.measure != "increase":
            raise ValueError("`per` divides increases: add `measure: increase`")
        if self.measure == "value" and self.mode == "overall":
            raise ValueError("`mode: overall` needs `measure: increase`")
        return self

    @property
    def effective_mode(self) -> Mode:
        return self.mode or ("overall" if self.measure == "increase" else "eventually")


class BreakerAssertion(_Windowed):
    """The breaker of an edge: reaches `state` (or stays in it with `mode: always`), or
    makes each of `transitions` in order (read from the transition counters, so a state
    held for less than a scrape interval is still seen)."""

    name: str
    breaker: EdgeName
    state: BreakerState | None = None
    transitions: list[Transition] | None = None
    mode: Literal["eventually", "always"] = "eventually"

    @model_validator(mode="after")
    def _state_or_transitions(self) -> BreakerAssertion:
        if (self.state is None) == (self.transitions is None):
            raise ValueError("give either `state` or `transitions`")
        if self.transitions is not None and not self.transitions:
            raise ValueError("`transitions` must list at least one, e.g. ['open->half_open']")
        if self.transitions is not None and self.mode == "always":
            raise ValueError("`mode: always` applies to `state`, not `transitions`")
        return self


class TrafficAssertion(_Compared, _Windowed):
    """What the background traffic's clients saw in a window.

    `measure`: `count` of matching requests, `ratio` of matching among the operation's
    requests, or a latency (`p50`, `p95`, `p99`, `max`, in seconds) of matching requests.
    Matching = `outcome` (`ok`: 2xx, `error`: anything else, `any`) or explicit `status`.
    """

    name: str
    traffic: Literal["place_order", "get_order", "get_user", "list_products", "any"] = "any"
    outcome: Literal["ok", "error", "any"] = "any"
    status: Annotated[list[int], BeforeValidator(_as_list)] | None = None
    measure: Literal["count", "ratio", "p50", "p95", "p99", "max"] = "count"


class HttpAssertion(HttpExpectation, _Windowed):
    """A request that must succeed at some point in the window (retried every `interval`)."""

    name: str
    interval: Seconds = Field(default=1.0, gt=0)


class InvariantAssertion(_Windowed):
    """The invariant checker reports no violation (of `rules`, if given) at some point in
    the window: checked from `after` every `interval` until it holds or the window ends."""

    name: str
    invariant: str
    rules: list[str] | None = None
    interval: Seconds = Field(default=1.0, gt=0)


ASSERTION_KINDS = ("breaker", "metric", "traffic", "http", "invariant")
ASSERTION_TAGS = frozenset(ASSERTION_KINDS) | {"edge", "process"}


def _assertion_kind(value: Any) -> str | None:
    return _kind_of(value, ASSERTION_KINDS)


Assertion = Annotated[
    Annotated[BreakerAssertion, Tag("breaker")]
    | Annotated[MetricAssertion, Tag("metric")]
    | Annotated[TrafficAssertion, Tag("traffic")]
    | Annotated[HttpAssertion, Tag("http")]
    | Annotated[InvariantAssertion, Tag("invariant")],
    Discriminator(
        _assertion_kind,
        custom_error_type="assertion_kind",
        custom_error_message="an assertion has one of the keys "
        "`breaker`, `metric`, `traffic`, `http`, `invariant`",
    ),
]


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
        for index, assertion in enumerate(self.assertions):
            for anchor in assertion.anchors():
                if anchor.name not in known:
                    choices = ", ".join(sorted(labels)) or "none"
                    raise ValueError(
                        f"assertions.{index}: unknown anchor {anchor.name!r}; expected "
                        f"start, end, traffic or a fault label ({choices})"
                    )
            if isinstance(assertion, TrafficAssertion) and self.method.traffic is None:
                raise ValueError(f"assertions.{index}: a traffic assertion needs `method.traffic`")
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
