"""When an assertion looks: anchors (named moments), offsets, windows and fault windows.

An anchor is a named moment of a run (`start`, `end`, `traffic.start`, `<fault label>.end`)
shifted by an offset (`slow.end + 2s`); a window runs from one anchor for `within`
seconds or until another. Fault moments come from the fault executor's recorded
`TimelineEvent`s (when each fault was really applied and removed), never from the
schedule's offsets, so a slow apply does not shift what an assertion looks at. Chaos
experiments and load profiles both judge on these windows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from harness.faults import Seconds, TimelineEvent, parse_seconds

__all__ = [
    "Anchor",
    "AnchorField",
    "Anchors",
    "FaultWindow",
    "Window",
    "Windowed",
    "fault_key",
    "fault_windows",
    "window_of",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_ANCHOR = re.compile(
    r"^\s*(?P<name>[A-Za-z_][\w-]*)(?:\.(?P<edge>start|end))?"
    r"\s*(?:(?P<sign>[+-])\s*(?P<offset>\d+(?:\.\d+)?\s*(?:ms|s|m)?))?\s*$"
)


def fault_key(index: int) -> str:
    """The anchor name of an unlabelled fault: `fault-<index>` (its place in the schedule)."""
    return f"fault-{index}"


class Anchor(_Model):
    """`slow-payments.end + 2s`: the moment a named event happened, shifted by an offset.

    Names: `start` / `end` of the method (or load run), `traffic` (its `.start` / `.end`),
    or a fault's `label` (`.start` when it was applied, `.end` when it was removed; bare =
    `.start`); an unlabelled fault is `fault-<index>`.
    """

    name: str
    edge: Literal["start", "end"] = "start"
    offset: float = 0.0

    @property
    def key(self) -> str:
        """The moment's key in `Anchors` (`start`, `end`, `slow.end`, ...)."""
        return self.name if self.name in ("start", "end") else f"{self.name}.{self.edge}"

    def __str__(self) -> str:
        if not self.offset:
            return self.key
        sign = "+" if self.offset > 0 else "-"
        return f"{self.key} {sign} {abs(self.offset):g}s"


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


class Anchors:
    """Wall-clock times of the named moments of a run (`start`, `end`, `traffic.start`,
    `<fault label>.start`, ...); a moment that has not happened yet is absent."""

    def __init__(self, times: Mapping[str, float] | None = None) -> None:
        self._times: dict[str, float] = dict(times or {})

    def set(self, key: str, at: float) -> None:
        self._times[key] = at

    def record_fault_events(self, events: Iterable[TimelineEvent]) -> None:
        """`<label>.start` and `fault-<index>.start` from a fault's first successful apply,
        `.end` from its last removal (a repeated fault spans all its pulses)."""
        for event in events:
            names = {fault_key(event.fault_index)}
            if event.label is not None:
                names.add(event.label)
            for name in names:
                if event.action == "apply" and event.ok:
                    self._times.setdefault(f"{name}.start", event.at)
                elif event.action in ("remove", "rollback"):
                    key = f"{name}.end"
                    self._times[key] = max(event.at, self._times.get(key, event.at))

    def time_of_key(self, key: str) -> float | None:
        """`start`, `end`, `traffic.end`, `<label>.start`, ... (None: not happened yet)."""
        return self._times.get(key)

    def time_of(self, anchor: Anchor) -> float | None:
        at = self._times.get(anchor.key)
        return None if at is None else at + anchor.offset

    @property
    def origin(self) -> float | None:
        """The method's start: evidence gives times as offsets from it."""
        return self._times.get("start")

    def offset(self, at: float | None) -> float | None:
        """`at` as seconds from the origin (rounded to the millisecond)."""
        origin = self.origin
        if at is None or origin is None:
            return None
        return round(at - origin, 3)

    def as_offsets(self) -> dict[str, float]:
        origin = self.origin or 0.0
        return {key: round(at - origin, 3) for key, at in sorted(self._times.items())}


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float | None  # None: the end anchor has not happened yet

    def closed(self, now: float, *, grace: float = 0.0) -> bool:
        return self.end is not None and now > self.end + grace


def window_of(
    after: Anchor, within: float | None, until: Anchor | None, anchors: Anchors
) -> Window | None:
    """The window `[after, after + within]` or `[after, until]` (default `until: end`), or
    None while its start has not happened."""
    start = anchors.time_of(after)
    if start is None:
        return None
    if within is not None:
        return Window(start, start + within)
    end = anchors.time_of(until or Anchor(name="end", edge="end"))
    return Window(start, end)


class Windowed(_Model):
    """A window `[after, after + within]` or `[after, until]`; default `[start, end]`."""

    after: AnchorField = Field(default_factory=lambda: Anchor(name="start"))
    within: Seconds | None = None
    until: AnchorField | None = None

    @model_validator(mode="after")
    def _one_end(self) -> Windowed:
        if self.within is not None and self.until is not None:
            raise ValueError("give either `within` or `until`, not both")
        return self

    def anchors(self) -> list[Anchor]:
        return [self.after] + ([self.until] if self.until is not None else [])

    def window(self, anchors: Anchors) -> Window | None:
        return window_of(self.after, self.within, self.until, anchors)

    def describe_window(self) -> str:
        if self.within is not None:
            return f"within {self.within:g}s of {self.after}"
        return f"from {self.after} until {self.until or 'end'}"


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """When one fault of a schedule was in force (wall-clock times), for reports."""

    index: int
    description: str
    start: float | None
    end: float | None
    error: str | None = None

    @property
    def applied(self) -> bool:
        return self.start is not None


def fault_windows(
    events: Sequence[TimelineEvent], descriptions: Sequence[str], *, run_end: float
) -> list[FaultWindow]:
    """One window per fault: from its first apply to its last `remove` or `rollback`
    (or `run_end`), read like the anchors (`Anchors.record_fault_events`)."""
    windows = []
    for index, description in enumerate(descriptions):
        mine = [e for e in events if e.fault_index == index]
        anchors = Anchors()
        anchors.record_fault_events(mine)
        start = anchors.time_of_key(f"{fault_key(index)}.start")
        end = anchors.time_of_key(f"{fault_key(index)}.end")
        failed = next((e for e in mine if e.action == "apply" and not e.ok), None)
        windows.append(
            FaultWindow(
                index=index,
                description=description,
                start=start,
                end=end if end is not None else (run_end if start is not None else None),
                error=failed.error if failed else None,
            )
        )
    return windows
