"""The assertion engine: a registry of assertion kinds, the context they are judged in,
and the scheduler that retries active checks.

Every kind is one model class in one module (`harness.assertions.kinds.*`): it declares the
file key that names it, and knows how to validate itself against a topology, which metric
series it reads, how to describe itself and how to evaluate itself into a `Check`. The
engine never switches on a kind; adding one is a new module registered with `register`:

    @register
    class LatencyBudget(AssertionModel):
        keys: ClassVar[tuple[str, ...]] = ("latency_budget",)
        ...
        def evaluate(self, ctx: EvaluationContext) -> Check: ...

An installed package can ship a kind the same way, declared under the entry-point group
`harness.assertion_kinds` (`harness.assertions.kinds.register_installed_kinds`).

Chaos experiments and load profiles build the same models (a profile's shorthand such as
`breaker_stayed_closed` parses into a `breaker` assertion), and judge them with `evaluate`
on the same timeline and fault windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar, Union

from pydantic import Discriminator, Tag, TypeAdapter

from harness.assertions.check import Check, CheckStatus, Comparison
from harness.assertions.probing import ProbeContext, ProbeResult
from harness.assertions.window import Anchors, Window, Windowed
from harness.observe.timeline import Timeline
from harness.topology import Edge, ResolvedConventions
from harness.traffic import TrafficRecord

__all__ = [
    "ActiveChecks",
    "AssertionModel",
    "EvaluationContext",
    "Problem",
    "Scope",
    "TrafficView",
    "assertion_type",
    "conventions_of",
    "evaluate",
    "kind_keys",
    "parse_assertion",
    "problem_path",
    "register",
    "registered_kinds",
]


def _no_conventions(service: str) -> ResolvedConventions:
    return ResolvedConventions()


def conventions_of(system: object) -> Callable[[str], ResolvedConventions] | None:
    """A running system's per-service conventions, from its topology (None: it has none)."""
    topology = getattr(system, "topology", None)
    if topology is None or not hasattr(topology, "conventions_for"):
        return None

    def lookup(service: str) -> ResolvedConventions:
        try:
            return topology.conventions_for(service)  # type: ignore[no-any-return]
        except KeyError:
            return ResolvedConventions()

    return lookup


#: `(key inside the assertion, what is wrong)`; key "" is the assertion as a whole.
Problem = tuple[str, str]


def problem_path(prefix: str, problem: Problem) -> str:
    """`assertions.0.breaker: unknown edge ...` from a prefix and a problem."""
    key, message = problem
    return f"{prefix}.{key}: {message}" if key else f"{prefix}: {message}"


@dataclass(frozen=True, slots=True)
class Scope:
    """What validation can know before anything runs: the topology's services, edges and
    conventions, the anchor names the run will have, and whether it drives traffic.

    `services`/`edges`/`conventions` None: unknown (nothing is checked against them).
    """

    services: Collection[str] | None = None
    edges: Collection[str] | None = None
    conventions: Callable[[str], ResolvedConventions] | None = None
    anchor_names: Collection[str] = ("start", "end")
    traffic: bool = False

    def edge_problem(self, edge: Edge) -> str | None:
        if self.edges is not None and edge.name not in self.edges:
            return f"unknown edge {edge.name!r}; expected one of {', '.join(sorted(self.edges))}"
        return None

    def service_problem(self, service: str) -> str | None:
        if self.services is not None and service not in self.services:
            known = ", ".join(sorted(self.services))
            return f"unknown service {service!r}; expected one of {known}"
        return None


@dataclass(frozen=True, slots=True)
class TrafficView:
    """What the run's traffic clients saw so far: finished requests, the start times of
    requests still in flight, and how long to wait for them (their timeout)."""

    records: Sequence[TrafficRecord] = ()
    in_flight: Sequence[float] = ()
    settle: float = 0.0


class ActiveChecks:
    """Runs active checks (HTTP, invariant) in a small pool, one attempt in flight per
    assertion, retried every `interval` while its window is open."""

    @dataclass(slots=True)
    class _State:
        future: Future[ProbeResult] | None = None
        next_at: float = 0.0
        last: ProbeResult | None = None
        attempts: int = 0

    def __init__(self, *, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check")
        self._states: dict[str, ActiveChecks._State] = {}

    def drive(
        self,
        assertion: AssertionModel,
        window: Window,
        ctx: EvaluationContext,
        *,
        interval: float,
        attempt: Callable[[], ProbeResult],
    ) -> Check:
        """The check's status now: passed at the first attempt that holds, failed when
        the window closed on a failing attempt, else pending (starting attempts as due)."""
        state = self._states.setdefault(assertion.name, ActiveChecks._State())
        now, final = ctx.now, ctx.final
        if state.future is not None and (state.future.done() or final):
            last = state.future.result()
            state.future, state.last = None, last
            state.attempts += 1
            if last.ok:
                return assertion.result(
                    "passed",
                    f"{last.summary} (attempt {state.attempts})",
                    last.evidence,
                    attempts=state.attempts,
                )
            state.next_at = now + interval
        if state.last is not None and (window.closed(now) or final) and state.future is None:
            return assertion.result(
                "failed",
                f"{state.last.summary} (after {state.attempts} attempts)",
                state.last.evidence,
                attempts=state.attempts,
            )
        if state.future is None and now >= window.start and now >= state.next_at and not final:
            state.future = self._pool.submit(attempt)
        if final and state.future is None and state.last is None:
            return assertion.result("failed", "never checked: the run ended before the window")
        summary = state.last.summary if state.last is not None else "checking"
        return assertion.result("pending", summary, attempts=state.attempts)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(slots=True)
class EvaluationContext:
    """What an assertion is judged on, at `now` (`final`: the run is over, pending ends).

    Args:
        anchors: the moments of the run so far.
        grace: seconds a window's end is stretched for a last scrape (the scrape interval).
        timeline: the metrics timeline (None: metrics were not recorded).
        traffic: what the traffic clients saw.
        conventions: each service's conventions (how its breakers show, ...).
        probes, active: for active checks (HTTP requests, invariant checkers).
    """

    anchors: Anchors
    now: float = field(default_factory=time.time)
    final: bool = False
    grace: float = 1.0
    timeline: Timeline | None = None
    traffic: TrafficView = field(default_factory=TrafficView)
    conventions: Callable[[str], ResolvedConventions] = _no_conventions
    probes: ProbeContext | None = None
    active: ActiveChecks | None = None


class AssertionModel(Windowed):
    """Base of every assertion kind: a named expectation over a window.

    A kind sets `keys` (the file keys that name it; the first is its kind name) and
    implements `evaluate` and `describe`; it may add validation (`problems`) and the
    metric series it needs kept (`metric_names`).
    """

    keys: ClassVar[tuple[str, ...]] = ()
    name: str

    @classmethod
    def kind_name(cls) -> str:
        return cls.keys[0]

    # -- what every kind implements ---------------------------------------------------

    def evaluate(self, ctx: EvaluationContext) -> Check:
        raise NotImplementedError

    def describe(self) -> str:
        """The expectation in words, for journals and reports."""
        raise NotImplementedError

    def problems(self, scope: Scope) -> list[Problem]:
        """What is wrong with this assertion for the given topology: `(key, message)`
        pairs, `key` the assertion's own key at fault ("" for the whole assertion)."""
        return []

    def metric_names(self, conventions: Callable[[str], ResolvedConventions]) -> set[str]:
        """Metric names this assertion reads from the timeline (so the timeline keeps them)."""
        return set()

    # -- helpers ----------------------------------------------------------------------

    def result(
        self,
        status: CheckStatus,
        summary: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        observed: float | None = None,
        limit: float | None = None,
        unit: str = "",
        comparison: Comparison | None = None,
        attempts: int = 0,
    ) -> Check:
        """A `Check` for this assertion."""
        return Check(
            name=self.name,
            kind=self.kind_name(),
            status=status,
            summary=summary,
            expectation=self.describe(),
            evidence=dict(evidence or {}),
            observed=observed,
            limit=limit,
            unit=unit,
            comparison=comparison,
            attempts=attempts,
        )

    def window_not_open(self, ctx: EvaluationContext) -> Check:
        """Pending while the window's start has not happened; failed once the run is over."""
        if ctx.final:
            return self.result("failed", f"the window never opened: {self.after} did not happen")
        return self.result("pending", f"waiting for the window to open ({self.after})")

    def pending(self) -> Check:
        return self.result("pending", "")

    def attempt_in_window(
        self,
        ctx: EvaluationContext,
        *,
        interval: float,
        attempt: Callable[[ProbeContext], ProbeResult],
        what: str,
    ) -> Check:
        """An active check (`attempt`) retried every `interval` while the window is open,
        through the context's scheduler; `what` names it when nothing can run it."""
        window = self.window(ctx.anchors)
        if window is None:
            return self.window_not_open(ctx)
        if ctx.active is None or ctx.probes is None:
            return self.result("failed", f"{what} need a running system")
        probes = ctx.probes
        return ctx.active.drive(
            self, window, ctx, interval=interval, attempt=lambda: attempt(probes)
        )


_KINDS: dict[str, type[AssertionModel]] = {}
K = TypeVar("K", bound=type[AssertionModel])


def register(kind: K) -> K:
    """Make an assertion kind known to the engine (a class decorator)."""
    if not kind.keys:
        raise TypeError(f"{kind.__name__} declares no `keys`")
    for key in kind.keys:
        owner = _KINDS.get(key)
        if owner is not None and owner is not kind:
            raise ValueError(f"assertion key {key!r} is taken by {owner.__name__}")
    for key in kind.keys:
        _KINDS[key] = kind
    _adapter.cache_clear()
    return kind


def registered_kinds() -> list[type[AssertionModel]]:
    """Every registered kind, once each, in registration order."""
    return list(dict.fromkeys(_KINDS.values()))


def kind_keys() -> list[str]:
    return list(_KINDS)


def _discriminate(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return next((kind.kind_name() for key, kind in _KINDS.items() if key in value), None)
    if isinstance(value, AssertionModel):
        return value.kind_name()
    return None


def assertion_type() -> Any:
    """The pydantic type of "any registered assertion": a union tagged by file key."""
    kinds = registered_kinds()
    if not kinds:
        raise RuntimeError("no assertion kinds registered")
    keys = ", ".join(f"`{key}`" for key in _KINDS)
    members = tuple(Annotated[kind, Tag(kind.kind_name())] for kind in kinds)
    union = members[0] if len(members) == 1 else Union[members]  # noqa: UP007
    return Annotated[
        union,
        Discriminator(
            _discriminate,
            custom_error_type="assertion_kind",
            custom_error_message=f"an assertion has one of the keys {keys}",
        ),
    ]


class _AdapterCache:
    def __init__(self) -> None:
        self._adapter: TypeAdapter[Any] | None = None

    def __call__(self) -> TypeAdapter[Any]:
        if self._adapter is None:
            self._adapter = TypeAdapter(assertion_type())
        return self._adapter

    def cache_clear(self) -> None:
        self._adapter = None


_adapter = _AdapterCache()


def parse_assertion(data: Any) -> AssertionModel:
    """Validate one assertion (a mapping, as read from YAML) into its kind's model."""
    parsed = _adapter().validate_python(data)
    assert isinstance(parsed, AssertionModel)
    return parsed


def evaluate(assertions: Iterable[AssertionModel], ctx: EvaluationContext) -> list[Check]:
    """Every assertion judged now; a resolved check carries when (seconds from the origin)."""
    checks = []
    for assertion in assertions:
        check = assertion.evaluate(ctx)
        if check.resolved:
            check = check.model_copy(update={"resolved_at": ctx.anchors.offset(ctx.now)})
        checks.append(check)
    return checks
