"""JSON logs on stderr, one object per line, each carrying `service` and `request_id`."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from shop.common.context import get_request_id

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ContextFilter(logging.Filter):
    """Stamps every record with the service name and the current request id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = get_request_id()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        return True


def configure_logging(*, service: str, level: str = "INFO") -> None:
    """Route the root logger (and uvicorn's) to one JSON handler on stderr.

    Idempotent: calling it again replaces the handler, so tests that build several apps do
    not multiply log lines.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(_FORMAT, rename_fields={"levelname": "level", "asctime": "time"})
    )
    handler.addFilter(ContextFilter(service))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_shop_handler", False)]:
        root.removeHandler(old)
    handler._shop_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "gunicorn.error"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # The app logs one line per request itself (with route and request id): silence uvicorn's
    # access log, however uvicorn was started.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    # httpx logs every request at INFO; the client's metrics and our access log say enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
