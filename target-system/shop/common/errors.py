"""The JSON error shape `{"error", "detail", "request_id", ...}` and the exceptions behind it.

Framework-free: FastAPI services get handlers from `shop.common.app`; the Flask service can
build the same bodies with `error_body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from shop.common.context import get_request_id


class ErrorBody(BaseModel):
    """Every 4xx/5xx body. Some errors add fields (`dependency`, `order`, `payment`)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str | list[Any] | None = None
    request_id: str | None = None


def error_body(error: str, detail: Any = None, **extra: Any) -> dict[str, Any]:
    """The error body for the current request (its id comes from the request context)."""
    return {"error": error, "detail": detail, "request_id": get_request_id(), **extra}


class ApiError(Exception):
    """An error answered as JSON with its status, machine code, detail and extra fields."""

    def __init__(
        self,
        status_code: int,
        error: str,
        detail: Any = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status_code} {error}: {detail}")
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.error, self.detail, **self.extra)


class NotFound(ApiError):
    def __init__(self, detail: str, *, error: str = "not_found") -> None:
        super().__init__(404, error, detail)


class Conflict(ApiError):
    def __init__(
        self, detail: str, *, error: str = "conflict", extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(409, error, detail, extra=extra)


# On a 503 a service answers because a dependency is unavailable: it already retried that
# dependency (or its breaker refused the call), so a caller must not retry on top; retries at
# two layers multiply (3 x 3 calls at the provider). `ResilientClient` respects it.
DO_NOT_RETRY_HEADER = "X-Do-Not-Retry"


class DependencyUnavailable(ApiError):
    """A dependency could not answer: breaker open, bulkhead full, timeout, refused, reset, 5xx.

    `outcome_unknown` is True when the request may have reached the dependency and had an
    effect (read timeout, connection reset after sending, a 5xx answer): a caller must find
    out what happened before compensating. It is False when the request surely never left
    (connect refused, breaker open, bulkhead full). For a retried call it covers every
    attempt: True once any attempt may have reached the dependency.
    """

    def __init__(
        self,
        dependency: str,
        reason: str,
        *,
        outcome_unknown: bool,
        status_code: int | None = None,
        outcome: str | None = None,
    ) -> None:
        super().__init__(
            503,
            "dependency_unavailable",
            f"{dependency}: {reason}",
            extra={"dependency": dependency},
            headers={DO_NOT_RETRY_HEADER: "dependency-unavailable"},
        )
        self.dependency = dependency
        self.reason = reason
        self.outcome_unknown = outcome_unknown
        # The dependency's own status when it answered 5xx; None for transport failures.
        self.upstream_status = status_code
        # The attempt outcome of the metrics contract (`timeout`, `rejected_breaker`, ...).
        self.outcome = outcome
