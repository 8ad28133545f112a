"""The Flask service keeps the same HTTP conventions as the FastAPI ones (`shop.common.app`):
the same `Allow` on a 405, HEAD wherever GET is, no automatic OPTIONS, the same error codes
and the same `/ready` body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from shop.common.db import make_engine
from shop.common.flask_app import install_conventions, json_response


@pytest.fixture
def client(tmp_path: Path, unique_service: str) -> Iterator[FlaskClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    app = Flask(__name__)
    install_conventions(app, service=unique_service, engine=engine)

    @app.post("/things")
    def create_thing() -> Response:
        return json_response({}, 201)

    @app.get("/things")
    def list_things() -> Response:
        return json_response({"items": []})

    @app.delete("/things/<int:thing_id>")
    def delete_thing(thing_id: int) -> Response:
        return Response(status=204)

    yield app.test_client()
    engine.dispose()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/things", "GET, HEAD, POST"), ("/things/7", "DELETE"), ("/health", "GET, HEAD")],
)
@pytest.mark.parametrize("method", ["OPTIONS", "PUT"])
def test_method_not_allowed_lists_what_the_path_serves_as_fastapi_services_do(
    client: FlaskClient, path: str, allowed: str, method: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.get_json()["error"] == "method_not_allowed"
    assert response.get_json()["request_id"] == response.headers["X-Request-ID"]


def test_head_is_a_get_without_its_body(client: FlaskClient) -> None:
    response = client.head("/things")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert int(response.headers["Content-Length"]) == len(client.get("/things").get_data())


def test_ready_has_the_shared_body(client: FlaskClient, unique_service: str) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "service": unique_service,
        "database": "ok",
        "dependencies": {},
    }


def test_an_unknown_path_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
