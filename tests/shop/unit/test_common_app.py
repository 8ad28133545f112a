"""create_app: operational endpoints, request ids, the JSON error shape, metrics, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from shop.common.app import create_app, periodic_task, register_test_reset, run_at_startup
from shop.common.client import ResilientClient
from shop.common.db import make_engine
from shop.common.errors import Conflict, DependencyUnavailable, NotFound
from shop.common.metrics import sample_value
from shop.common.settings import ServiceSettings
from shop.common.validation import DbId, JsonId

AppClient = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


class Widget(BaseModel):
    count: JsonId


def build_demo_app(service: str, tmp_path: Path, **kwargs: object) -> FastAPI:
    settings = ServiceSettings()
    app = create_app(
        service=service,
        settings=settings,
        engine=make_engine(f"sqlite:///{tmp_path / 'demo.db'}"),
        **kwargs,  # type: ignore[arg-type]
    )

    @app.post("/widgets/{widget_id}", status_code=201)
    def create_widget(widget_id: DbId, widget: Widget) -> Widget:
        if widget_id == 404:
            raise NotFound("no such widget")
        if widget_id == 409:
            raise Conflict("widget exists", extra={"widget_id": widget_id})
        if widget_id == 503:
            raise DependencyUnavailable("payments", "breaker open", outcome_unknown=False)
        if widget_id == 500:
            raise RuntimeError("bug")
        return widget

    return app


@pytest.fixture
def demo_app(unique_service: str, tmp_path: Path) -> FastAPI:
    return build_demo_app(unique_service, tmp_path)


@pytest.mark.anyio
async def test_health_answers_ok_with_the_service_name(
    demo_app: FastAPI, app_client: AppClient, unique_service: str
) -> None:
    client = await app_client(demo_app)
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": unique_service}


@pytest.mark.anyio
async def test_ready_reports_database_and_dependency_breakers(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    payments = ResilientClient(
        service=unique_service,
        dependency="payments",
        base_url="http://payments.test",
        settings=ServiceSettings(),
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
    )
    app = build_demo_app(unique_service, tmp_path, dependencies={"payments": payments})
    client = await app_client(app)
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "service": unique_service,
        "database": "ok",
        "dependencies": {"payments": {"breaker": "closed"}},
    }


@pytest.mark.anyio
async def test_ready_is_503_when_the_database_does_not_answer(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    app = create_app(
        service=unique_service,
        settings=ServiceSettings(),
        engine=make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"),
    )
    client = await app_client(app)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert response.json()["database"] == "error"


@pytest.mark.anyio
async def test_request_id_is_created_when_absent_and_echoed_when_given(
    demo_app: FastAPI, app_client: AppClient
) -> None:
    client = await app_client(demo_app)
    created = (await client.get("/health")).headers["X-Request-ID"]
    assert len(created) >= 16
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


@pytest.mark.anyio
async def test_malformed_request_id_is_replaced(demo_app: FastAPI, app_client: AppClient) -> None:
    client = await app_client(demo_app)
    response = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"


@pytest.mark.anyio
async def test_malformed_json_is_a_400_with_the_error_shape(
    demo_app: FastAPI, app_client: AppClient
) -> None:
    client = await app_client(demo_app)
    response = await client.post(
        "/widgets/1",
        content=b'{"count": ',
        headers={"Content-Type": "application/json", "X-Request-ID": "r-1"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_json"
    assert body["request_id"] == "r-1"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/widgets/1", {"count": "many"}),
        ("/widgets/1", {"count": 0}),
        ("/widgets/1", {}),
        ("/widgets/1", [1, 2]),
        ("/widgets/1", {"count": 2**64}),
        ("/widgets/1", {"count": "5"}),
        ("/widgets/1", {"count": True}),
        ("/widgets/1", {"count": 5.5}),
        ("/widgets/99999999999999999999999", {"count": 1}),
        ("/widgets/abc", {"count": 1}),
    ],
)
async def test_invalid_input_is_a_422_with_the_error_shape(
    demo_app: FastAPI, app_client: AppClient, path: str, payload: object
) -> None:
    client = await app_client(demo_app)
    response = await client.post(path, json=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert isinstance(body["detail"], list)
    assert body["detail"][0].keys() == {"loc", "msg", "type"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("widget_id", "status", "error"),
    [(404, 404, "not_found"), (409, 409, "conflict"), (503, 503, "dependency_unavailable")],
)
async def test_api_errors_use_the_json_error_shape(
    demo_app: FastAPI, app_client: AppClient, widget_id: int, status: int, error: str
) -> None:
    client = await app_client(demo_app)
    response = await client.post(f"/widgets/{widget_id}", json={"count": 1})
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.anyio
async def test_dependency_unavailable_names_the_dependency(
    demo_app: FastAPI, app_client: AppClient
) -> None:
    client = await app_client(demo_app)
    body = (await client.post("/widgets/503", json={"count": 1})).json()
    assert body["dependency"] == "payments"
    assert "breaker open" in body["detail"]


@pytest.mark.anyio
async def test_integral_json_number_is_an_integer(demo_app: FastAPI, app_client: AppClient) -> None:
    client = await app_client(demo_app)
    response = await client.post("/widgets/1", json={"count": 5.0})
    assert response.status_code == 201
    assert response.json() == {"count": 5}


@pytest.mark.anyio
async def test_unknown_route_is_a_json_404(demo_app: FastAPI, app_client: AppClient) -> None:
    client = await app_client(demo_app)
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.anyio
async def test_wrong_method_is_a_json_405(demo_app: FastAPI, app_client: AppClient) -> None:
    client = await app_client(demo_app)
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.anyio
async def test_unhandled_error_is_a_logged_json_500(
    demo_app: FastAPI, app_client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await app_client(demo_app)
    response = await client.post("/widgets/500", json={"count": 1})
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    assert any(record.message == "unhandled error" for record in caplog.records)


@pytest.mark.anyio
async def test_http_metrics_are_labelled_by_route_template(
    demo_app: FastAPI, app_client: AppClient, unique_service: str
) -> None:
    client = await app_client(demo_app)
    await client.post("/widgets/7", json={"count": 1})
    await client.post("/widgets/8", json={"count": 1})
    await client.get("/not-a-route")
    labels = {"service": unique_service, "method": "POST", "route": "/widgets/{widget_id}"}
    assert sample_value("shop_http_requests_total", {**labels, "status": "201"}) == 2
    assert sample_value("shop_http_request_duration_seconds_count", labels) == 2
    unmatched = {"service": unique_service, "method": "GET", "route": "<unmatched>"}
    assert sample_value("shop_http_requests_total", {**unmatched, "status": "404"}) == 1
    text = (await client.get("/metrics")).text
    assert 'shop_http_requests_total{method="POST",route="/widgets/{widget_id}"' in text


@pytest.mark.anyio
async def test_openapi_documents_the_error_shape_for_400_and_422(
    demo_app: FastAPI, app_client: AppClient
) -> None:
    client = await app_client(demo_app)
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"]["/widgets/{widget_id}"]["post"]["responses"]
    for status in ("400", "422"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    ready = document["paths"]["/ready"]["get"]["responses"]
    assert ready["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReadyBody"
    }


@pytest.mark.anyio
async def test_lifespan_hooks_start_in_order_and_stop_in_reverse(
    unique_service: str, tmp_path: Path, app_client: AppClient
) -> None:
    events: list[str] = []

    def hook(name: str) -> Callable[[FastAPI], AsyncIterator[None]]:
        @asynccontextmanager
        async def run(_app: FastAPI) -> AsyncIterator[None]:
            events.append(f"start {name}")
            yield
            events.append(f"stop {name}")

        return run  # type: ignore[return-value]

    app = build_demo_app(
        unique_service,
        tmp_path,
        lifespan_hooks=[hook("a"), hook("b"), run_at_startup(lambda: events.append("once"))],
    )
    async with app.router.lifespan_context(app):
        assert events == ["start a", "start b", "once"]
    assert events == ["start a", "start b", "once", "stop b", "stop a"]


@pytest.mark.anyio
async def test_periodic_task_runs_repeatedly_survives_errors_and_stops_at_shutdown(
    unique_service: str, tmp_path: Path
) -> None:
    runs: list[int] = []
    third_run = asyncio.Event()

    async def work() -> None:
        runs.append(1)
        if len(runs) == 3:
            third_run.set()
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    app = build_demo_app(
        unique_service, tmp_path, lifespan_hooks=[periodic_task("tick", work, interval=0.001)]
    )
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(third_run.wait(), timeout=10)
    after_shutdown = len(runs)
    await asyncio.sleep(0.01)
    assert len(runs) == after_shutdown


@pytest.mark.anyio
@pytest.mark.parametrize("test_mode", [True, False])
async def test_test_reset_route_exists_only_in_test_mode(
    unique_service: str, tmp_path: Path, app_client: AppClient, test_mode: bool
) -> None:
    resets: list[int] = []
    settings = ServiceSettings(shop_test_mode=test_mode)
    app = create_app(
        service=unique_service,
        settings=settings,
        engine=make_engine(f"sqlite:///{tmp_path / 'x.db'}"),
    )
    register_test_reset(app, settings=settings, reset=lambda: resets.append(1))
    client = await app_client(app)
    response = await client.post("/_test/reset")
    assert response.status_code == (204 if test_mode else 404)
    assert resets == ([1] if test_mode else [])
    assert "/_test/reset" not in (await client.get("/openapi.json")).json()["paths"]
