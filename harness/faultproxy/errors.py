"""The API's errors, with the real server's messages and status codes."""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """An error answered as `{"error": message, "status": status}`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def joined(self, detail: object) -> ApiError:
        """Go's `joinError`: `"<message>: <detail>"` with the same status."""
        return ApiError(f"{self.message}: {detail}", self.status)

    @classmethod
    def bad_request_body(cls, detail: object) -> ApiError:
        return cls("bad request body", 400).joined(detail)

    @classmethod
    def missing_field(cls, detail: str) -> ApiError:
        return cls("missing required field", 400).joined(detail)

    @classmethod
    def proxy_not_found(cls) -> ApiError:
        return cls("proxy not found", 404)

    @classmethod
    def proxy_exists(cls) -> ApiError:
        return cls("proxy already exists", 409)

    @classmethod
    def invalid_stream(cls) -> ApiError:
        return cls("stream was invalid, can be either upstream or downstream", 400)

    @classmethod
    def invalid_toxic_type(cls) -> ApiError:
        return cls("invalid toxic type", 400)

    @classmethod
    def toxic_exists(cls) -> ApiError:
        return cls("toxic already exists", 409)

    @classmethod
    def toxic_not_found(cls) -> ApiError:
        return cls("toxic not found", 404)

    @classmethod
    def internal(cls, message: str) -> ApiError:
        """A Go error without a status (e.g. a listen failure) is answered with 500."""
        return cls(message, 500)
