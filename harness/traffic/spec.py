"""`method.traffic` as typed models: requests declared in YAML, or a user's class.

Both kinds share the pacing: at most `rate` requests per second in total, from
`concurrency` threads, starting `start` seconds into the method, for `duration` seconds
(default: until the method ends), each request bounded by `timeout`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from harness.faults import Seconds

__all__ = [
    "BUILTIN_VARIABLES",
    "ChoiceGenerator",
    "ClassTraffic",
    "DeclaredRequest",
    "DeclaredTraffic",
    "EnvGenerator",
    "Generator",
    "IntGenerator",
    "TextGenerator",
    "TrafficPacing",
    "TrafficSpec",
    "placeholders",
    "redact_fields",
]

REDACTED = "***"
# Filled by the harness: the request's index, the run's seed, and a per-run id (the one
# value not drawn from the seed, so names created on a long-lived system never collide).
BUILTIN_VARIABLES = frozenset({"index", "seed", "run"})
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(value: Any) -> set[str]:
    """Names of the `{placeholders}` anywhere in a template (strings, lists, mappings)."""
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def redact_fields(value: Any, secret: set[str] | frozenset[str]) -> Any:
    """`value` with the value of every mapping key named in `secret` replaced, at any depth."""
    if isinstance(value, dict):
        return {
            key: REDACTED if key in secret else redact_fields(item, secret)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_fields(item, secret) for item in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TrafficPacing(_Model):
    rate: float = Field(default=5.0, gt=0, le=500, description="requests per second, in total")
    concurrency: int = Field(default=4, ge=1, le=64)
    start: Seconds = 0.0
    duration: Seconds | None = Field(default=None, description="default: until the method ends")
    timeout: Seconds = Field(default=5.0, gt=0, description="per request")


# --- generators: seeded values for placeholders ------------------------------------------


class IntGenerator(_Model):
    """`{int: [1, 5]}`: an integer from 1 to 5 inclusive."""

    int_: tuple[int, int] = Field(alias="int")

    @model_validator(mode="after")
    def _ordered(self) -> IntGenerator:
        if self.int_[0] > self.int_[1]:
            raise ValueError(f"expected [low, high] with low <= high, got {list(self.int_)}")
        return self


class ChoiceGenerator(_Model):
    """`{choice: [a, b, c]}`: one of the values."""

    choice: list[Any] = Field(min_length=1)


class TextGenerator(_Model):
    """`{text: 8}`: that many lowercase letters and digits."""

    text: int = Field(ge=1, le=256)


class EnvGenerator(_Model):
    """`{env: API_TOKEN}`: the variable's value, read once at setup; always secret."""

    env: str = Field(min_length=1)


def _generator_kind(value: Any) -> str | None:
    keys = ("int", "choice", "text", "env")
    if isinstance(value, dict):
        return next((key for key in keys if key in value), None)
    attributes = {"int": "int_", "choice": "choice", "text": "text", "env": "env"}
    return next((key for key in keys if hasattr(value, attributes[key])), None)


Generator = Annotated[
    Annotated[IntGenerator, Tag("int")]
    | Annotated[ChoiceGenerator, Tag("choice")]
    | Annotated[TextGenerator, Tag("text")]
    | Annotated[EnvGenerator, Tag("env")],
    Discriminator(
        _generator_kind,
        custom_error_type="generator_kind",
        custom_error_message="a generator has one of the keys `int`, `choice`, `text`, `env`",
    ),
]


# --- declared requests -------------------------------------------------------------------


def status_list(value: object) -> object:
    """`status: 200` means `[200]`."""
    return [value] if isinstance(value, int) else value


def _absolute_path(path: object) -> object:
    if isinstance(path, str) and not path.startswith("/"):
        raise ValueError(f"expected a path starting with '/', got {path!r}")
    return path


def _upper(method: object) -> object:
    return method.upper() if isinstance(method, str) else method


# The pieces of an HTTP request every request model shares (traffic, probes, assertions).
HttpMethod = Annotated[
    Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], BeforeValidator(_upper)
]
RequestPath = Annotated[str, AfterValidator(_absolute_path)]
Statuses = Annotated[list[int], BeforeValidator(status_list)]


class DeclaredRequest(_Model):
    """One named request. `path`, header values and JSON strings may hold `{placeholders}`
    (a string that is exactly one placeholder takes the value's own type, so `"{qty}"`
    sends a number). `capture` keeps values of the JSON answer (`{order_id: order.id}`,
    dotted paths, list positions as numbers) for later requests' placeholders."""

    name: str = Field(min_length=1, max_length=100)
    service: str = Field(min_length=1)
    method: HttpMethod = "GET"
    path: RequestPath
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    expect: Statuses | None = Field(
        default=None, description="statuses that count as ok; default: any 2xx"
    )
    weight: int = Field(default=1, ge=0)
    capture: dict[str, str] = Field(default_factory=dict)

    @field_validator("capture")
    @classmethod
    def _capture_names(cls, capture: dict[str, str]) -> dict[str, str]:
        for name in capture:
            if not name.isidentifier():
                raise ValueError(f"a captured value needs an identifier as name, got {name!r}")
        return capture

    @field_serializer("headers")
    def _hide_secret_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {
            key: REDACTED if key.lower() in ALWAYS_SECRET_HEADERS else value
            for key, value in headers.items()
        }

    def used(self) -> set[str]:
        return placeholders(self.path) | placeholders(self.headers) | placeholders(self.json_body)


class DeclaredTraffic(TrafficPacing):
    """Requests declared in the experiment: `setup` runs once, in order (each must answer
    as expected; its captures are fixed for the run and handed to invariant checkers),
    then `requests` are dealt by `weight` with the seed. `secrets` names generators,
    captured values, headers or JSON fields whose values are never written anywhere
    (`Authorization`, `Proxy-Authorization`, `Cookie` and `env` values always are)."""

    generators: dict[str, Generator] = Field(default_factory=dict)
    setup: list[DeclaredRequest] = Field(default_factory=list)
    requests: list[DeclaredRequest] = Field(min_length=1)
    secrets: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DeclaredTraffic:
        names = [request.name for request in self.requests]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"request names must be unique; repeated: {', '.join(repeated)}")
        if not any(request.weight for request in self.requests):
            raise ValueError("at least one request needs a weight above 0")
        clash = sorted(BUILTIN_VARIABLES & set(self.generators))
        if clash:
            raise ValueError(f"{', '.join(clash)}: built-in placeholders, not generator names")
        fixed = set(self.generators) | BUILTIN_VARIABLES
        for index, request in enumerate(self.setup):
            self._known(f"setup.{index}", request, fixed)
            fixed |= set(request.capture)
        captured = {name for request in self.requests for name in request.capture}
        for index, request in enumerate(self.requests):
            self._known(f"requests.{index}", request, fixed | captured)
        if all(request.used() & (captured - fixed) for request in self.requests if request.weight):
            raise ValueError(
                "every request needs a value captured by another request; at least one "
                "must be sendable from the start"
            )
        return self

    @staticmethod
    def _known(where: str, request: DeclaredRequest, known: set[str]) -> None:
        unknown = sorted(request.used() - known)
        if unknown:
            raise ValueError(
                f"{where} ({request.name}): unknown placeholder "
                f"{', '.join('{' + name + '}' for name in unknown)}; expected a generator, "
                f"an earlier capture or one of {', '.join(sorted(BUILTIN_VARIABLES))}"
            )

    @property
    def secret_names(self) -> frozenset[str]:
        envs = {name for name, g in self.generators.items() if isinstance(g, EnvGenerator)}
        return frozenset(self.secrets) | envs

    def services(self) -> list[tuple[str, str]]:
        """(key path, service) of every request, for checks against the system."""
        return [
            (f"method.traffic.{section}.{index}.service", request.service)
            for section, requests in (("setup", self.setup), ("requests", self.requests))
            for index, request in enumerate(requests)
        ]

    @model_serializer(mode="wrap")
    def _hide_secrets(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        secret = set(self.secrets) | {name.lower() for name in self.secrets}
        generators = data.get("generators") or {}
        for name in generators:
            if name in self.secret_names:
                generators[name] = REDACTED
        for section in ("setup", "requests"):
            for request in data.get(section) or []:
                headers = request.get("headers") or {}
                for key in headers:
                    if key in secret or key.lower() in secret:
                        headers[key] = REDACTED
                for key in ("json", "json_body"):
                    if key in request:
                        request[key] = redact_fields(request[key], secret)
        return data


class ClassTraffic(TrafficPacing):
    """A user's class (`file.py:Class`, relative to the experiment, or `module:Class`)
    built with `options` as keywords; see `harness.traffic.source` for its protocol.
    `secrets` names options whose values never go into the journal."""

    class_: str = Field(alias="class", min_length=3)
    options: dict[str, Any] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)

    def services(self) -> list[tuple[str, str]]:
        return []

    @field_serializer("options")
    def _hide_secret_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {key: REDACTED if key in self.secrets else value for key, value in options.items()}


def _traffic_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "class" in value or "class_" in value:
            return "class"
        return "requests" if "requests" in value else None
    if isinstance(value, ClassTraffic):
        return "class"
    return "requests" if isinstance(value, DeclaredTraffic) else None


TrafficSpec = Annotated[
    Annotated[DeclaredTraffic, Tag("requests")] | Annotated[ClassTraffic, Tag("class")],
    Discriminator(
        _traffic_kind,
        custom_error_type="traffic_kind",
        custom_error_message="traffic has `requests` (declared requests) or `class` "
        "(a traffic class, `file.py:Class` or `module:Class`)",
    ),
]
