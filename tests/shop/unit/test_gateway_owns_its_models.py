"""The gateway is a consumer: it keeps its own models of its providers' APIs.

Importing a provider's schemas would make the gateway change with the provider, and its
consumer pacts could no longer catch the drift a separate team's change would cause.
"""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
import shop.gateway
from shop.common.db import make_engine
from shop.gateway.factory import build_app
from shop.gateway.settings import GatewaySettings

GATEWAY = Path(shop.gateway.__file__).parent
PROVIDERS = ("shop.users", "shop.orders", "shop.inventory", "shop.payments", "shop.notifications")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize("module", sorted(GATEWAY.glob("*.py")), ids=lambda path: path.name)
def test_the_gateway_imports_no_code_of_its_providers(module: Path) -> None:
    borrowed = sorted(
        name
        for name in _imported_modules(module)
        if any(name == p or name.startswith(f"{p}.") for p in PROVIDERS)
    )
    assert borrowed == [], f"{module.name} imports its providers' code: {borrowed}"


@pytest.mark.anyio
async def test_an_order_view_of_an_answer_that_is_no_order_is_a_502() -> None:
    """The order view reads the order through its own model: a body without the fields it
    needs is the provider's fault (502), not a crash of the gateway (500)."""

    def orders(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": 1, "status": "confirmed"})  # no user_id

    app = build_app(
        settings=GatewaySettings(database_url="sqlite://"),
        engine=make_engine("sqlite://"),
        transports={"orders": httpx.MockTransport(orders)},
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        response = await client.get("/api/orders/1", headers={"Authorization": "Bearer demo-token"})
    assert response.status_code == 502, response.text
    assert response.json()["error"] == "bad_gateway"
