"""Run a service by hand: `python -m shop.<service>` serves its app with uvicorn."""

from __future__ import annotations

import uvicorn

from shop.common.settings import ServiceSettings


def run_service(app_path: str, settings: ServiceSettings) -> None:
    """Serve `app_path` (e.g. `shop.users.app:app`) on the settings' HOST and PORT.

    Logging is left to the app (its lifespan installs the JSON handler), and uvicorn's access
    log is off because the app logs one line per request itself, with the request id.
    """
    uvicorn.run(
        app_path,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        log_level=settings.log_level.lower(),
    )
