"""The six shop services as real processes on loopback, a fault proxy on every edge.

One shop is brought up for the module (`target-system/system.toml` through the harness
runtime); each test creates its own users and products, and every fault is undone after it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from shop_process_driver import ShopDriver, wait_until

from harness import http_clients
from harness.observe.metrics import scrape
from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

ROOT = Path(__file__).parents[3]
TOPOLOGY = ROOT / "target-system" / "system.toml"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# A slow edge is slow, not failed, even on a busy machine; an open breaker retries soon.
ENV = {"HTTP_READ_TIMEOUT": "10", "BREAKER_SLOW_CALL_SECONDS": "10", "BREAKER_OPEN_SECONDS": "1"}
# Far longer than finding the saga mid-charge and killing orders ever takes.
CHARGE_LATENCY_MS = 8000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    topology = load_topology(TOPOLOGY)
    system = topology.system.model_copy(update={"env": {**topology.system.env, **ENV}})
    with start_system(
        topology.model_copy(update={"system": system}), home=tmp_path_factory.mktemp("home")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def module_driver(shop: RunningSystem) -> ShopDriver:
    return ShopDriver(shop)


@pytest.fixture
def driver(module_driver: ShopDriver) -> Iterator[ShopDriver]:
    """The module's shop; after each test, dead processes restarted and every fault removed."""
    yield module_driver
    module_driver.system.restore()


def _order_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    order: dict[str, Any] = body.get("order", body)
    return order


# -- the saga's outcomes, seen from every service ---------------------------------------------


def test_an_order_through_the_gateway_ends_confirmed_with_stock_taken_and_one_charge(
    driver: ShopDriver,
) -> None:
    user, sku = driver.new_user(), driver.new_product(stock=10)

    response = driver.place_order(driver.order_body(user, sku, quantity=3))

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["total_cents"] == 3 * 250
    product = driver.product(sku)
    assert (product["stock"], product["reserved"]) == (7, 0)
    payments = driver.payments_for(order["id"])
    assert [(p["status"], p["amount_cents"]) for p in payments] == [("captured", 750)]
    assert order["payment_id"] == payments[0]["id"]
    reservations = driver.reservations_for(order["id"])
    assert [r["status"] for r in reservations] == ["confirmed"]
    assert order["reservation_id"] == reservations[0]["id"]


def test_a_declined_card_ends_cancelled_with_stock_released_and_no_net_charge(
    driver: ShopDriver,
) -> None:
    user, sku = driver.new_user(), driver.new_product(stock=4)

    response = driver.place_order(driver.order_body(user, sku, quantity=2, card="tok_declined"))

    assert response.status_code == 402, response.text
    assert response.json()["error"] == "card_declined"
    order = _order_of(response)
    assert order["status"] == "cancelled"
    assert driver.order(order["id"])["status"] == "cancelled"
    product = driver.product(sku)
    assert (product["stock"], product["reserved"]) == (4, 0)
    assert [r["status"] for r in driver.reservations_for(order["id"])] == ["cancelled"]
    assert "captured" not in {p["status"] for p in driver.payments_for(order["id"])}


def test_an_unknown_user_gets_a_4xx_and_touches_nothing(driver: ShopDriver) -> None:
    sku = driver.new_product(stock=3)
    before = driver.totals()

    response = driver.place_order(driver.order_body(999_999_999, sku))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "unknown_user"
    assert driver.totals() == before  # no order, saga, reservation nor payment
    product = driver.product(sku)
    assert (product["stock"], product["reserved"]) == (3, 0)


def test_replaying_an_order_with_the_same_key_creates_nothing_new(driver: ShopDriver) -> None:
    user, sku = driver.new_user(), driver.new_product(stock=5)
    body, key = driver.order_body(user, sku, quantity=2), f"it-replay-{uuid.uuid4().hex}"
    first = driver.place_order(body, key=key)
    assert first.status_code == 201, first.text
    before = driver.totals()

    replays = [driver.place_order(body, key=key) for _ in range(2)]

    for replay in replays:
        assert replay.status_code == 200, replay.text
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert replay.json()["status"] == "confirmed"
    assert driver.totals() == before
    assert [p["status"] for p in driver.payments_for(first.json()["id"])] == ["captured"]
    assert driver.product(sku)["stock"] == 3
    other_body = driver.place_order(driver.order_body(user, sku, quantity=1), key=key)
    assert other_body.status_code == 409, other_body.text
    assert driver.totals() == before


def _saga_waiting_for_its_charge(driver: ShopDriver) -> dict[str, Any] | None:
    """The in-flight saga whose charge went out (captured by payments) and is unanswered."""
    for saga in driver.sagas_in_flight():
        if saga["state"] != "running" or saga["charge"] != "pending":
            continue
        if any(p["status"] == "captured" for p in driver.payments_for(saga["order_id"])):
            return saga
    return None


def _post_order_to_orders(url: str, body: dict[str, Any], key: str) -> httpx.Response:
    return http_clients.post(
        f"{url}/orders", json=body, headers={"Idempotency-Key": key}, timeout=60
    )


def test_orders_killed_mid_saga_recovers_with_no_saga_in_flight_and_invariants_hold(
    driver: ShopDriver,
) -> None:
    shop = driver.system
    user, sku = driver.new_user(), driver.new_product(stock=6)
    body, key = driver.order_body(user, sku, quantity=2), f"it-kill-{uuid.uuid4().hex}"

    with (
        shop.faults.toxic("orders->payments", "latency", attributes={"latency": CHARGE_LATENCY_MS}),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        placing = pool.submit(_post_order_to_orders, shop.url("orders"), body, key)
        saga = wait_until(
            lambda: _saga_waiting_for_its_charge(driver),
            timeout=30,
            what="a saga charged by payments, its answer still on the way",
        )
        steps = driver.get("orders", f"/sagas/{saga['id']}")["steps"]
        assert (steps[-1]["step"], steps[-1]["outcome"]) == ("charge_payment", "started")
        shop.kill("orders")
        assert isinstance(placing.exception(timeout=60), httpx.TransportError)
    shop.restart("orders")

    recovered = scrape(shop.url("orders") + "/metrics")
    assert (
        recovered.value("shop_saga_recovered_total", service="orders", action="resumed") or 0
    ) >= 1
    wait_until(
        lambda: driver.sagas_in_flight() == [], timeout=30, what="no saga in flight after restart"
    )
    order = driver.order(saga["order_id"])
    assert order["status"] == "confirmed"  # resumed: the charge was found by its key
    assert Counter(p["status"] for p in driver.payments_for(order["id"])) == {"captured": 1}
    assert driver.product(sku)["stock"] == 4
    report = driver.wait_for_invariants()
    assert report.checked["products"] == len(driver.initial_stock)


# -- bad input: a 4xx with a JSON error body, never a 500 -------------------------------------

JSON = {"Content-Type": "application/json"}
KEY = {"Idempotency-Key": "it-bad-input"}
MALFORMED = {"content": b'{"user_id": ', "headers": JSON}
MALFORMED_KEYED = {"content": b'{"user_id": ', "headers": {**KEY, **JSON}}
ITEM = {"sku": "SKU-1", "quantity": 1}
NO_ITEM = {"sku": "SKU-1", "quantity": 0}
ORDER = {"user_id": 1, "items": [ITEM], "card_token": "tok_visa"}
CHARGE = {"order_id": 1, "amount_cents": 1, "currency": "EUR", "card_token": "tok_visa"}


def case(name: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """One bad request: `kwargs` go to httpx (json=, content=, headers=, params=)."""
    return pytest.param(method, path, kwargs, status, id=name)


BAD_GATEWAY_REQUESTS = [
    case("malformed-order", "POST", "/api/orders", 400, **MALFORMED_KEYED),
    case("order-without-key", "POST", "/api/orders", 422, json=ORDER),
    case(
        "zero-quantity", "POST", "/api/orders", 422, json={**ORDER, "items": [NO_ITEM]}, headers=KEY
    ),
    case("bad-email", "POST", "/api/users", 422, json={"name": "Ada", "email": "not-an-email"}),
    case("user-id-not-int", "GET", "/api/users/abc", 422),
    case("bad-sku", "GET", "/api/products/mug", 422),
    case("unknown-order", "GET", "/api/orders/999999999", 404),
    case("wrong-method", "DELETE", "/api/orders/1", 405),
    case("unknown-path", "GET", "/api/nowhere", 404),
]


def _assert_json_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str), body
    assert body["error"], body
    assert "detail" in body
    if status == 405:
        assert response.headers["Allow"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_GATEWAY_REQUESTS)
def test_bad_input_through_the_gateway_gets_a_json_4xx(
    driver: ShopDriver, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    with driver.client("gateway") as gateway:
        _assert_json_error(gateway.request(method, path, **kwargs), status)


def test_the_gateway_refuses_a_missing_token_with_a_json_401(driver: ShopDriver) -> None:
    response = http_clients.get(driver.system.url("gateway") + "/api/products", timeout=10)
    _assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


BAD_PRODUCT = {"sku": "mug", "name": "Mug", "price_cents": -1, "stock": 1}
BAD_DIRECT_REQUESTS = [
    (
        "users",
        [
            case("users-malformed", "POST", "/users", 400, **MALFORMED),
            case("users-invalid", "POST", "/users", 422, json={"name": "", "email": "x"}),
            case("users-unknown", "GET", "/users/999999999", 404),
        ],
    ),
    (
        "inventory",
        [
            case("inventory-bad-product", "POST", "/products", 422, json=BAD_PRODUCT),
            case(
                "inventory-no-key",
                "POST",
                "/reservations",
                422,
                json={"order_id": 1, "items": [ITEM]},
            ),
            case(
                "inventory-zero-quantity",
                "POST",
                "/reservations",
                422,
                json={"order_id": 1, "items": [NO_ITEM]},
                headers=KEY,
            ),
            case("inventory-unknown-reservation", "POST", "/reservations/999999999/confirm", 404),
        ],
    ),
    (
        "payments",
        [
            case("payments-malformed", "POST", "/payments", 400, **MALFORMED_KEYED),
            case("payments-no-key", "POST", "/payments", 422, json=CHARGE),
            case(
                "payments-invalid",
                "POST",
                "/payments",
                422,
                json={**CHARGE, "amount_cents": 0, "currency": "GBP"},
                headers=KEY,
            ),
            case("payments-bad-query", "GET", "/payments", 422, params={"limit": "many"}),
            case("payments-unknown", "GET", "/payments/999999999", 404),
            case("payments-wrong-method", "PUT", "/payments", 405),
        ],
    ),
    (
        "orders",
        [
            case("orders-malformed", "POST", "/orders", 400, **MALFORMED_KEYED),
            case(
                "orders-invalid",
                "POST",
                "/orders",
                422,
                json={**ORDER, "user_id": "me"},
                headers=KEY,
            ),
            case("orders-bad-saga-filter", "GET", "/sagas", 422, params={"state": "lost"}),
            case("orders-id-zero", "GET", "/orders/0", 422),
        ],
    ),
    (
        "notifications",
        [
            case("notifications-malformed", "POST", "/events", 400, **MALFORMED),
            case("notifications-invalid", "POST", "/events", 422, json={"type": "order.confirmed"}),
            case("notifications-bad-query", "GET", "/notifications", 422, params={"order_id": "x"}),
        ],
    ),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "kwargs", "status"),
    [
        pytest.param(service, *p.values, id=p.id)
        for service, params in BAD_DIRECT_REQUESTS
        for p in params
    ],
)
def test_bad_input_to_each_service_gets_a_json_4xx(
    driver: ShopDriver, service: str, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    with driver.client(service) as client:
        _assert_json_error(client.request(method, path, **kwargs), status)


# -- readiness and correlation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "dependencies"),
    [
        ("gateway", {"users", "orders", "inventory", "payments"}),
        ("orders", {"users", "inventory", "payments", "notifications"}),
        ("payments", set()),
    ],
)
def test_ready_reports_every_dependency_breaker(
    driver: ShopDriver, service: str, dependencies: set[str]
) -> None:
    ready = driver.get(service, "/ready")
    assert (ready["status"], ready["service"], ready["database"]) == ("ready", service, "ok")
    assert set(ready["dependencies"]) == dependencies
    assert {d["breaker"] for d in ready["dependencies"].values()} <= {"closed"}


SERVICES = ("gateway", "users", "inventory", "payments", "orders", "notifications")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_serves_head_and_names_the_same_allowed_methods(
    driver: ShopDriver, service: str
) -> None:
    with driver.client(service) as client:
        head = client.head("/health")
        refused = [client.request(method, "/ready") for method in ("OPTIONS", "DELETE")]
    assert (head.status_code, head.content) == (200, b"")
    for response in refused:
        _assert_json_error(response, 405)
        assert response.headers["Allow"] == "GET, HEAD"


def _gateway_breaker(driver: ShopDriver, dependency: str) -> str:
    return str(driver.get("gateway", "/ready")["dependencies"][dependency]["breaker"])


def test_ready_shows_a_breaker_open_while_its_dependency_is_cut(driver: ShopDriver) -> None:
    user = driver.new_user()
    with driver.client("gateway") as gateway, driver.system.faults.partitioned("gateway->users"):

        def opened() -> bool:
            answer = gateway.get(f"/api/users/{user}")
            assert answer.status_code == 503, answer.text
            return _gateway_breaker(driver, "users") == "open"

        wait_until(opened, timeout=30, what="gateway's breaker for users opens")
        assert _gateway_breaker(driver, "orders") == "closed"
    with driver.client("gateway") as gateway:
        # Healed: once open_seconds passed, trial calls go through and close the breaker.
        wait_until(
            lambda: (
                gateway.get(f"/api/users/{user}").status_code == 200
                and _gateway_breaker(driver, "users") == "closed"
            ),
            timeout=30,
            what="gateway's breaker for users closes again",
        )


def test_a_request_id_travels_from_gateway_to_orders_to_payments(driver: ShopDriver) -> None:
    user, sku = driver.new_user(), driver.new_product(stock=2)
    request_id = f"it-{uuid.uuid4().hex}"

    response = driver.place_order(
        driver.order_body(user, sku), headers={"X-Request-ID": request_id}
    )

    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id

    def routes_logged(service: str) -> set[str]:
        return {
            str(r.get("route"))
            for r in driver.log_records(service)
            if r.get("request_id") == request_id and r.get("message") == "request"
        }

    expected = {"gateway": "/api/orders", "orders": "/orders", "payments": "/payments"}
    for service, route in expected.items():
        wait_until(
            lambda: route in routes_logged(service),  # noqa: B023 (called at once)
            timeout=10,
            what=f"{service} logs {route} with request id {request_id}",
        )
