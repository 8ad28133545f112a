"""A proxy's toxics: one chain per direction, applied to every live link of the proxy.

Ports the real server's `ToxicCollection`, including the order in which a new toxic's JSON is
validated (decode, stream, default name, type, duplicate name, attributes) so that bad input
gets the same error.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.faultproxy import gojson
from harness.faultproxy.errors import ApiError
from harness.faultproxy.gojson import FLOAT32, STRING, GoField, GoInterface, GoStruct
from harness.faultproxy.link import Direction, Link
from harness.faultproxy.toxics import NOOP, TOXICS, BadAttribute, Toxic

__all__ = ["ToxicCollection", "ToxicWrapper"]


@dataclass(eq=False)
class ToxicWrapper:
    """A toxic as the API shows it, plus its place in its direction's chain."""

    toxic: Toxic
    name: str
    type: str
    stream: str  # as the client sent it ("UPSTREAM" stays "UPSTREAM")
    toxicity: float  # a float32 value
    direction: Direction
    index: int = 0
    seq: int = 0  # creation order: the API lists toxics by direction, then by this
    applied: int = 0  # HTTP toxics: requests taken so far (for `first`)
    removed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": gojson.Float32(self.toxicity),
        }


def _noop_wrapper(direction: Direction) -> ToxicWrapper:
    # The hidden first stage: toxicity 0 means its draw always picks noop, as in the real server.
    return ToxicWrapper(NOOP, "", "noop", "", 0.0, direction)


_TOXIC_WRAPPER = GoStruct(
    "toxics.ToxicWrapper",
    "ToxicWrapper",
    (
        GoField("attributes", GoInterface(NOOP.go_struct())),
        GoField("name", STRING),
        GoField("type", STRING),
        GoField("stream", STRING),
        GoField("toxicity", FLOAT32),
    ),
)


def _attributes_holder(toxic: type[Toxic]) -> GoStruct:
    return GoStruct(
        'struct { Attributes interface {} "json:\\"attributes\\"" }',
        "",
        (GoField("attributes", GoInterface(toxic.go_struct())),),
    )


def _update_holder(toxic: type[Toxic]) -> GoStruct:
    return GoStruct(
        'struct { Attributes interface {} "json:\\"attributes\\""; '
        'Toxicity float32 "json:\\"toxicity\\"" }',
        "",
        (
            GoField("attributes", GoInterface(toxic.go_struct())),
            GoField("toxicity", FLOAT32),
        ),
    )


def _decode(body: bytes, typ: gojson.GoType) -> dict[str, Any]:
    try:
        value = gojson.decode(body, typ)
    except gojson.JSONDecodeError as exc:
        raise ApiError.bad_request_body(exc) from None
    return value if isinstance(value, dict) else {}


def parse_direction(stream: str) -> Direction:
    lowered = stream.lower()
    if lowered == "upstream":
        return Direction.UPSTREAM
    if lowered == "downstream":
        return Direction.DOWNSTREAM
    raise ApiError.invalid_stream()


def _validated(toxic: Toxic) -> Toxic:
    try:
        toxic.validate()
    except BadAttribute as exc:
        raise ApiError.bad_request_body(exc) from None
    return toxic


class ToxicCollection:
    """The toxic chains of one proxy and the live links they apply to.

    HTTP toxics are kept apart, in `http` (creation order): they are no stage of a chain;
    the proxy's HTTP flows read them per request. `on_http_change` is called after one is
    added, updated or removed.
    """

    def __init__(self, *, on_http_change: Callable[[], None] | None = None) -> None:
        self.chains = ([_noop_wrapper(Direction.UPSTREAM)], [_noop_wrapper(Direction.DOWNSTREAM)])
        self.http: list[ToxicWrapper] = []
        self.links: set[Link] = set()
        self.lock = asyncio.Lock()
        self._on_http_change = on_http_change
        self._seq = itertools.count(1)

    # -- reading ----------------------------------------------------------------------

    def toxics(self) -> list[ToxicWrapper]:
        """Every toxic, upstream ones first, each direction in the order they were added."""
        found = self.chains[Direction.UPSTREAM][1:] + self.chains[Direction.DOWNSTREAM][1:]
        if not self.http:
            return found
        return sorted([*found, *self.http], key=lambda w: (w.direction, w.seq))

    def find(self, name: str) -> ToxicWrapper | None:
        for toxic in self.toxics():
            if toxic.name == name:
                return toxic
        return None

    def chain(self, direction: Direction) -> list[ToxicWrapper]:
        return list(self.chains[direction])

    def resets_peer(self) -> bool:
        return any(w.toxic.RESETS_PEER for chain in self.chains for w in chain)

    # -- links ------------------------------------------------------------------------

    def start_link(self, link: Link) -> None:
        self.links.add(link)
        link.start(self.chain(link.direction))

    def remove_link(self, link: Link) -> None:
        self.links.discard(link)

    def _links(self, direction: Direction) -> list[Link]:
        return [link for link in self.links if link.direction == direction]

    # -- changes ----------------------------------------------------------------------

    async def add_json(self, body: bytes) -> ToxicWrapper:
        async with self.lock:
            fields = _decode(body, _TOXIC_WRAPPER)
            stream = fields.get("stream", "downstream")
            direction = parse_direction(stream)
            type_name = fields.get("type", "")
            name = fields.get("name", "") or f"{type_name}_{stream}"
            toxic_type = TOXICS.get(type_name)
            if toxic_type is None:
                raise ApiError.invalid_toxic_type()
            if self.find(name) is not None:
                raise ApiError.toxic_exists()
            attributes = _decode(body, _attributes_holder(toxic_type)).get("attributes", {})
            wrapper = ToxicWrapper(
                toxic=_validated(toxic_type.from_attributes(attributes)),
                name=name,
                type=type_name,
                stream=stream,
                toxicity=fields.get("toxicity", 1.0),
                direction=direction,
                seq=next(self._seq),
            )
            if wrapper.toxic.HTTP:
                self.http.append(wrapper)
                self._http_changed()
            else:
                await self._chain_add(wrapper)
            return wrapper

    async def update_json(self, name: str, body: bytes) -> ToxicWrapper:
        async with self.lock:
            wrapper = self.find(name)
            if wrapper is None:
                raise ApiError.toxic_not_found()
            fields = _decode(body, _update_holder(type(wrapper.toxic)))
            wrapper.toxic = _validated(wrapper.toxic.with_attributes(fields.get("attributes", {})))
            wrapper.toxicity = fields.get("toxicity", wrapper.toxicity)
            if wrapper.toxic.HTTP:
                self._http_changed()
                return wrapper
            await asyncio.gather(
                *(link.update_toxic(wrapper) for link in self._links(wrapper.direction))
            )
            return wrapper

    async def remove(self, name: str) -> None:
        async with self.lock:
            wrapper = self.find(name)
            if wrapper is None:
                raise ApiError.toxic_not_found()
            if wrapper.toxic.HTTP:
                self._http_remove(wrapper)
            else:
                await self._chain_remove(wrapper)

    async def reset(self) -> None:
        async with self.lock:
            for chain in self.chains:
                while len(chain) > 1:
                    await self._chain_remove(chain[1])
            for wrapper in list(self.http):
                self._http_remove(wrapper)

    def _http_remove(self, wrapper: ToxicWrapper) -> None:
        self.http.remove(wrapper)
        wrapper.removed = True
        self._http_changed()

    def _http_changed(self) -> None:
        if self._on_http_change is not None:
            self._on_http_change()

    async def _chain_add(self, wrapper: ToxicWrapper) -> None:
        chain = self.chains[wrapper.direction]
        wrapper.index = len(chain)
        chain.append(wrapper)
        snapshot = list(chain)
        await asyncio.gather(
            *(link.add_toxic(wrapper, snapshot) for link in self._links(wrapper.direction))
        )

    async def _chain_remove(self, wrapper: ToxicWrapper) -> None:
        chain = self.chains[wrapper.direction]
        del chain[wrapper.index]
        for i in range(wrapper.index, len(chain)):
            chain[i].index = i
        snapshot = list(chain)
        await asyncio.gather(
            *(link.remove_toxic(wrapper, snapshot) for link in self._links(wrapper.direction))
        )
        wrapper.index = -1
