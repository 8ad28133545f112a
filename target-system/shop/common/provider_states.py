"""Pact provider states and message production over HTTP, for contract verification only.

Both routes exist only when SHOP_TEST_MODE is on; in the default configuration they are never
registered, so nothing can reach them.

- `POST /_test/provider-states` takes the body the Pact verifier sends to a state-change URL,
  `{"state": name, "params": {...}, "action": "setup" | "teardown"}`. `setup` runs the named
  state's setup with its parameters (validated by the state's pydantic model) and answers
  `200` with the values the setup returned (the verifier can inject them into requests);
  `teardown` runs the service's teardown (every service resets its data). An interaction
  without a state arrives as the state `""`: nothing to set up, teardown as usual.
- `POST /_test/messages` answers the verifier's message request
  `{"description": ..., "providerStates": [{"name", "params"}]}` with the message the service
  would send: the body is the message, metadata goes in the `Pact-Message-Metadata` header
  (base64 JSON), as Pact's message transport expects.

An unknown state or bad parameters answer `400 {"error": "unknown_provider_state" |
"bad_provider_state_params", "detail": ...}`, which the verifier reports on the interaction.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shop.common.errors import ApiError
from shop.common.settings import ServiceSettings

if TYPE_CHECKING:  # FastAPI is imported where it is used: the Flask service uses this module too
    from fastapi import FastAPI

PROVIDER_STATES_PATH = "/_test/provider-states"
MESSAGES_PATH = "/_test/messages"
MESSAGE_METADATA_HEADER = "Pact-Message-Metadata"

ParamsT = TypeVar("ParamsT", bound=BaseModel)
Values = Mapping[str, Any]
Setup = Callable[[ParamsT], Awaitable[Values | None] | Values | None]
Teardown = Callable[[], Awaitable[None] | None]
ModelT = TypeVar("ModelT", bound=BaseModel)


class StateChange(BaseModel):
    """What the Pact verifier POSTs to a state-change URL."""

    state: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    action: Literal["setup", "teardown"] = "setup"


class StateRef(BaseModel):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class MessageRequest(BaseModel):
    """What the Pact verifier POSTs to a message transport."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    description: str
    provider_states: list[StateRef] = Field(default_factory=list, alias="providerStates")

    def param(self, name: str) -> Any:
        """The first value of parameter `name` among the provider states (400 when absent)."""
        for state in self.provider_states:
            if name in state.params:
                return state.params[name]
        raise ApiError(
            400,
            "bad_message_request",
            f"message {self.description!r}: no provider state gives the parameter {name!r}",
        )


@dataclass(frozen=True, slots=True)
class Message:
    """A message as produced for the verifier: JSON body plus metadata."""

    body: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _State(Generic[ParamsT]):
    params: type[ParamsT]
    setup: Setup[ParamsT]


class ProviderStates:
    """Named provider states of one service, plus its teardown (keyword-only `teardown`)."""

    def __init__(self, *, teardown: Teardown) -> None:
        self._teardown = teardown
        self._states: dict[str, _State[Any]] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._states)

    def state(
        self, name: str, *, params: type[ParamsT]
    ) -> Callable[[Setup[ParamsT]], Setup[ParamsT]]:
        """Decorator: register `setup(params)` for the state `name`; `params` validates them."""

        def register(setup: Setup[ParamsT]) -> Setup[ParamsT]:
            if name in self._states:
                raise ValueError(f"provider state {name!r} is registered twice")
            self._states[name] = _State(params=params, setup=setup)
            return setup

        return register

    async def apply(self, change: StateChange) -> dict[str, Any]:
        """Run a setup or the teardown; returns the values a setup hands back."""
        return dict(await _maybe_await(self._dispatch(change)) or {})

    def apply_sync(self, change: StateChange) -> dict[str, Any]:
        """`apply` for synchronous setups and teardown (a WSGI service has no event loop)."""
        result = self._dispatch(change)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(f"provider state {change.state!r} is async; use `apply`")
        return dict(result or {})

    def _dispatch(self, change: StateChange) -> Any:
        """Call the teardown or the state's setup; its result may be awaitable."""
        if change.action == "teardown":
            return self._teardown()
        if not change.state:
            return None
        state = self._states.get(change.state)
        if state is None:
            known = ", ".join(repr(n) for n in self.names) or "none"
            raise ApiError(
                400, "unknown_provider_state", f"no provider state {change.state!r}; known: {known}"
            )
        try:
            params = state.params.model_validate(change.params)
        except ValidationError as exc:
            detail = f"provider state {change.state!r}: {_errors(exc)}"
            raise ApiError(400, "bad_provider_state_params", detail) from exc
        return state.setup(params)


async def _maybe_await(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'params'}: {error['msg']}"
        for error in exc.errors()
    )


def message_response_parts(message: Message) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a message answer, as Pact's message transport reads it."""
    metadata = {"contentType": "application/json", **message.metadata}
    encoded = base64.b64encode(json.dumps(metadata).encode()).decode()
    headers = {"Content-Type": "application/json", MESSAGE_METADATA_HEADER: encoded}
    return json.dumps(message.body).encode(), headers


def register_provider_states(
    app: FastAPI,
    *,
    settings: ServiceSettings,
    states: ProviderStates,
    messages: Callable[[MessageRequest], Awaitable[Message] | Message] | None = None,
) -> None:
    """Add `POST /_test/provider-states` (and `POST /_test/messages` when `messages` is
    given) only when SHOP_TEST_MODE is on."""
    if not settings.shop_test_mode:
        return
    from fastapi.responses import Response

    async def change_state(change: StateChange) -> dict[str, Any]:
        return await states.apply(change)

    app.add_api_route(
        PROVIDER_STATES_PATH,
        change_state,
        methods=["POST"],
        include_in_schema=False,
        response_model=None,
    )
    if messages is None:
        return
    produce = messages

    async def produce_message(wanted: MessageRequest) -> object:
        body, headers = message_response_parts(await _maybe_await(produce(wanted)))
        return Response(body, headers=headers)

    app.add_api_route(
        MESSAGES_PATH,
        produce_message,
        methods=["POST"],
        include_in_schema=False,
        response_model=None,
    )


def parse_body(model: type[ModelT], data: Any) -> ModelT:
    """`data` as `model` (`StateChange`, `MessageRequest`), or a 422 ApiError saying why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", _errors(exc)) from exc
