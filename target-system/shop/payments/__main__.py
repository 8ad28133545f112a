"""`python -m shop.payments`: serve the app with gunicorn on HOST:PORT from the environment."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from shop.payments.factory import create_app
from shop.payments.serving import KEEPALIVE_SECONDS, WORKER_CLASS
from shop.payments.settings import PaymentsSettings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn embedded: one worker, eight threads (see `shop.payments.app`, `.serving`)."""

    def __init__(self, settings: PaymentsSettings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Built in the worker, after gunicorn set up its loggers, so the app's JSON logging wins.
        return create_app(settings=self._settings)


def main() -> None:
    settings = PaymentsSettings()
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "threads": 8,
        "worker_class": WORKER_CLASS,
        "keepalive": KEEPALIVE_SECONDS,
        "loglevel": settings.log_level.lower(),
        "graceful_timeout": 5,
        # gunicorn 27 otherwise shares one control socket (~/.gunicorn) between instances.
        "control_socket_disable": True,
    }
    _Gunicorn(settings, options).run()


if __name__ == "__main__":
    main()
