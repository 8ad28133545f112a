"""Conventions: what a service does its own way, declared in the topology instead of assumed.

The harness assumes nothing about a service beyond HTTP. Where a stage needs to know more
(where the health check is, where the OpenAPI document is, how provider states are set up,
how a circuit breaker's state is exposed), the topology says so in a `[conventions]` table
for the whole system, overridden key by key in a service's `[services.NAME.conventions]`::

    [conventions]
    health = "/health"                          # default: "" = ready once it answers HTTP at /
    openapi = "/openapi.json"                   # OpenAPI 3 or Swagger 2; "" = not fuzzed
    metrics = "/metrics"                        # Prometheus text; "" = not scraped
    provider_states = "/_pact/provider-states"  # Pact state set-up route; "" = none
    messages = "/_pact/messages"                # message-pact route; "" = none
    test_env = { MY_TEST_MODE = "true" }        # env that turns the test-only routes on
    error_body = ["error", "detail"]            # keys every 4xx/5xx JSON body has; [] = unchecked

    [conventions.fuzz_checks]                   # switch schemathesis's or the harness's checks
    not_a_server_error = true
    error_body_shape = true

    [conventions.breaker]                       # how a caller exposes its breaker per edge
    metric = "shop_breaker_state"               # gauge read from the edge's source service
    labels = { dependency = "{target}" }        # labels that pick the edge ({source}, {target})
    states = { closed = 0, open = 1, half_open = 2 }
    transitions = "shop_breaker_transitions_total"  # optional counter with from/to labels
    transition_labels = ["from_state", "to_state"]

    [services.legacy.conventions]
    openapi = "/swagger/v1/swagger.json"
    health = "/ping"

The defaults suit an arbitrary HTTP service: no body shape, no route and no metric is assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["BreakerConvention", "Conventions", "ResolvedConventions"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _path_or_empty(value: str) -> str:
    if value and not value.startswith("/"):
        raise ValueError(f"expected a path starting with '/' (or \"\" for none), got {value!r}")
    return value


class BreakerConvention(_Model):
    """How a calling service exposes the state of its circuit breaker towards each edge."""

    metric: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=lambda: {"dependency": "{target}"})
    states: dict[str, float] = Field(
        default_factory=lambda: {"closed": 0.0, "open": 1.0, "half_open": 2.0}, strict=False
    )
    transitions: str | None = None
    transition_labels: tuple[str, str] = Field(default=("from_state", "to_state"), strict=False)

    @field_validator("labels")
    @classmethod
    def _templates_ok(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, template in labels.items():
            try:
                template.format(source="s", target="t")
            except (KeyError, IndexError, ValueError):
                raise ValueError(
                    f"labels.{key}: {template!r} may use only {{source}} and {{target}}"
                ) from None
        return labels

    @field_validator("states")
    @classmethod
    def _closed_and_open(cls, states: dict[str, float]) -> dict[str, float]:
        missing = {"closed", "open"} - set(states)
        if missing:
            raise ValueError(
                f"states must name at least closed and open; missing {sorted(missing)}"
            )
        return states

    def labels_for(self, source: str, target: str) -> dict[str, str]:
        """The label values that select the series of the edge `source -> target`."""
        return {
            key: value.format(source=source, target=target) for key, value in self.labels.items()
        }

    def state_name(self, value: float) -> str:
        """`1.0` -> `open` (an unknown value is shown as the number)."""
        for name, number in self.states.items():
            if number == value:
                return name
        return f"{value:g}"

    def state_value(self, name: str) -> float:
        try:
            return self.states[name]
        except KeyError:
            raise KeyError(
                f"breaker state {name!r} is not declared; states are {sorted(self.states)}"
            ) from None


class Conventions(_Model):
    """One `[conventions]` table (system-wide) or `[services.NAME.conventions]` (overrides).

    Every key is optional here; `ResolvedConventions` holds the value in force for a service.
    """

    health: str | None = None
    openapi: str | None = None
    metrics: str | None = None
    provider_states: str | None = None
    messages: str | None = None
    test_env: dict[str, str | int | float | bool] | None = None
    error_body: tuple[str, ...] | None = Field(default=None, strict=False)
    fuzz_checks: dict[str, bool] | None = None
    breaker: BreakerConvention | None = None

    @field_validator("health", "openapi", "metrics", "provider_states", "messages")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return None if value is None else _path_or_empty(value)

    def over(self, base: Conventions) -> Conventions:
        """These conventions with `base` filling every key they leave unset."""
        data = {key: getattr(self, key) for key in type(self).model_fields}
        inherited = {key: getattr(base, key) for key, value in data.items() if value is None}
        return self.model_copy(update=inherited)


class ResolvedConventions(_Model):
    """The conventions in force for one service: its own, else the system's, else defaults."""

    health: str = ""
    openapi: str = "/openapi.json"
    metrics: str = ""
    provider_states: str = ""
    messages: str = ""
    test_env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    error_body: tuple[str, ...] = ()
    fuzz_checks: dict[str, bool] = Field(default_factory=dict)
    breaker: BreakerConvention | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_unset(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @classmethod
    def of(cls, conventions: Conventions) -> ResolvedConventions:
        return cls.model_validate(conventions.model_dump())

    def check_enabled(self, name: str, *, default: bool = True) -> bool:
        """Whether the fuzz check `name` runs for this service."""
        return self.fuzz_checks.get(name, default)
