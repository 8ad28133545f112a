"""`create_app`: the payments Flask app, its database and its conventions in one place."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy import Engine, delete

from shop.common import metrics
from shop.common.db import make_engine, session_scope
from shop.common.flask_app import install_conventions, json_response
from shop.common.logging import configure_logging
from shop.payments.models import Base, ChargeKey, Payment
from shop.payments.openapi import OPENAPI_DOCUMENT
from shop.payments.provider_states import add_provider_state_route, provider_states
from shop.payments.routes import SERVICE, build_blueprint
from shop.payments.settings import PaymentsSettings

# Where the app keeps its engine (`app.extensions[...]`), e.g. for tests to dispose of it.
ENGINE_EXTENSION = "shop_engine"
PAYMENT_OUTCOMES = ("captured", "declined", "refunded", "replayed")


def create_app(*, settings: PaymentsSettings | None = None, engine: Engine | None = None) -> Flask:
    """The WSGI app. Keyword-only:

    - `settings` (None: read from the environment).
    - `engine` (None: `make_engine(settings.database_url)`); its tables are created here.
    """
    settings = settings or PaymentsSettings()
    configure_logging(service=SERVICE, level=settings.log_level)
    engine = engine or make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    app = Flask("shop.payments")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[ENGINE_EXTENSION] = engine
    install_conventions(app, service=SERVICE, engine=engine)
    app.register_blueprint(build_blueprint(engine))

    @app.get("/openapi.json")
    def openapi() -> Response:
        return json_response(OPENAPI_DOCUMENT)

    if settings.shop_test_mode:
        _add_test_hooks(app, engine)
    for outcome in PAYMENT_OUTCOMES:
        metrics.PAYMENTS.labels(service=SERVICE, outcome=outcome)
    return app


def _add_test_hooks(app: Flask, engine: Engine) -> None:
    """`/_test/...` routes for contract provider states; only with SHOP_TEST_MODE=true."""

    @app.post("/_test/reset")
    def reset() -> Response:
        with session_scope(engine, write=True) as session:
            session.execute(delete(Payment))
            session.execute(delete(ChargeKey))
        return Response(status=204)  # as shop.common.app's reset answers

    add_provider_state_route(app, provider_states(engine))
