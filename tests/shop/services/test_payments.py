"""The payments service in-process (Flask test client): the README "payments" contract."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shop.common.db import make_engine
from shop.common.metrics import sample_value
from shop.payments.factory import ENGINE_EXTENSION, create_app
from shop.payments.settings import PaymentsSettings

CHARGE = {"order_id": 7, "amount_cents": 1250, "currency": "EUR", "card_token": "tok_visa"}


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    settings = PaymentsSettings(database_url=f"sqlite:///{tmp_path / 'payments.db'}", **overrides)
    return create_app(settings=settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    app = make_app(tmp_path)
    yield app.test_client()
    app.extensions[ENGINE_EXTENSION].dispose()


def charge(client: FlaskClient, key: str, body: Any = None) -> Any:
    return client.post(
        "/payments", json=CHARGE if body is None else body, headers={"Idempotency-Key": key}
    )


def payments_counter(outcome: str) -> float:
    return sample_value("shop_payments_total", {"service": "payments", "outcome": outcome})


def test_charge_is_captured_and_answers_201(client: FlaskClient) -> None:
    response = charge(client, "k-1")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "captured"
    assert body["order_id"] == 7
    assert body["amount_cents"] == 1250
    assert body["idempotency_key"] == "k-1"
    assert client.get(f"/payments/{body['id']}").get_json() == body


def test_replay_with_same_key_and_body_answers_the_same_without_charging_again(
    client: FlaskClient,
) -> None:
    replays_before = payments_counter("replayed")
    first = charge(client, "k-1")
    second = charge(client, "k-1")
    assert second.status_code == first.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get("/payments?order_id=7").get_json()["total"] == 1
    assert payments_counter("replayed") == replays_before + 1


def test_same_key_with_another_body_is_a_409(client: FlaskClient) -> None:
    charge(client, "k-1")
    response = charge(client, "k-1", {**CHARGE, "amount_cents": 1})
    assert response.status_code == 409
    assert response.get_json()["error"] == "idempotency_key_reused"
    assert client.get("/payments").get_json()["total"] == 1


def test_declined_card_is_recorded_and_answered_402_again_on_replay(client: FlaskClient) -> None:
    body = {**CHARGE, "card_token": "tok_declined"}
    first = charge(client, "k-d", body)
    assert first.status_code == 402
    declined = first.get_json()
    assert declined["error"] == "card_declined"
    assert declined["payment"]["status"] == "declined"
    second = charge(client, "k-d", body)
    assert second.status_code == 402
    assert second.get_json()["payment"] == declined["payment"]
    listed = client.get("/payments?idempotency_key=k-d").get_json()
    assert [p["status"] for p in listed["items"]] == ["declined"]


def test_refund_is_idempotent_and_counted_once(client: FlaskClient) -> None:
    payment_id = charge(client, "k-r").get_json()["id"]
    refunds_before = payments_counter("refunded")
    first = client.post(f"/payments/{payment_id}/refund", headers={"Idempotency-Key": "r-1"})
    again = client.post(f"/payments/{payment_id}/refund")
    assert first.status_code == again.status_code == 200
    assert first.get_json()["status"] == again.get_json()["status"] == "refunded"
    assert payments_counter("refunded") == refunds_before + 1


def test_refunding_a_declined_payment_is_a_409(client: FlaskClient) -> None:
    declined = charge(client, "k-d", {**CHARGE, "card_token": "tok_declined"}).get_json()
    response = client.post(f"/payments/{declined['payment']['id']}/refund")
    assert response.status_code == 409
    assert response.get_json()["error"] == "payment_declined"


@pytest.mark.parametrize("path", ["/payments/999", "/payments/0", "/payments/99999999999999999999"])
def test_unknown_payment_is_a_json_404(client: FlaskClient, path: str) -> None:
    for response in (client.get(path), client.post(f"{path}/refund")):
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_query_filters_by_order_and_by_key(client: FlaskClient) -> None:
    charge(client, "k-a", {**CHARGE, "order_id": 1})
    charge(client, "k-b", {**CHARGE, "order_id": 2})
    by_order = client.get("/payments?order_id=2").get_json()
    assert [p["idempotency_key"] for p in by_order["items"]] == ["k-b"]
    by_key = client.get("/payments?idempotency_key=k-a").get_json()
    assert [p["order_id"] for p in by_key["items"]] == [1]
    assert client.get("/payments?idempotency_key=nope").get_json() == {"items": [], "total": 0}


@pytest.mark.parametrize(
    ("headers", "body", "bad_loc"),
    [
        ({}, CHARGE, ["header", "Idempotency-Key"]),
        ({"Idempotency-Key": "has space"}, CHARGE, ["header", "Idempotency-Key"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "order_id": True}, ["body", "order_id"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "amount_cents": 1.5}, ["body", "amount_cents"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "amount_cents": 0}, ["body", "amount_cents"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "amount_cents": "12"}, ["body", "amount_cents"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "currency": "GBP"}, ["body", "currency"]),
        ({"Idempotency-Key": "k"}, {**CHARGE, "extra": 1}, ["body", "extra"]),
        ({"Idempotency-Key": "k"}, [1, 2], ["body"]),
    ],
)
def test_invalid_charge_is_a_422_naming_the_problem(
    client: FlaskClient, headers: dict[str, str], body: Any, bad_loc: list[str]
) -> None:
    response = client.post("/payments", json=body, headers=headers)
    assert response.status_code == 422
    error = response.get_json()
    assert error["error"] == "validation_error"
    assert bad_loc in [item["loc"] for item in error["detail"]]


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[" * 100_000])
def test_malformed_json_is_a_400(client: FlaskClient, raw: bytes) -> None:
    response = client.post(
        "/payments", data=raw, headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_invalid_query_is_a_422(client: FlaskClient) -> None:
    response = client.get("/payments?order_id=abc")
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", "order_id"]


def test_unknown_route_and_method_answer_json_errors(client: FlaskClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"
    not_allowed = client.delete("/payments")
    assert not_allowed.status_code == 405
    assert not_allowed.get_json()["error"] == "method_not_allowed"
    assert "POST" in not_allowed.headers["Allow"]


def test_request_id_is_echoed_or_created(client: FlaskClient) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    created = client.get("/health")
    assert len(created.headers["X-Request-ID"]) >= 16
    error = client.get("/payments/999", headers={"X-Request-ID": "req-9"})
    assert error.get_json()["request_id"] == "req-9"


def test_probes_and_metrics(client: FlaskClient) -> None:
    assert client.get("/health").get_json() == {"status": "ok", "service": "payments"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.get_json()["database"] == "ok"
    charge(client, "k-m")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'shop_http_requests_total{method="POST",route="/payments",service="payments",status="201"}'
        in text
    )
    assert "shop_payments_total" in text


def test_ready_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'payments.db'}")
    app = create_app(settings=PaymentsSettings(), engine=engine)
    engine.dispose()
    (tmp_path / "db").rename(tmp_path / "moved")
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "not_ready"


def test_concurrent_charges_with_one_key_charge_once(client: FlaskClient) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: charge(client, "k-c"), range(12)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert client.get("/payments?idempotency_key=k-c").get_json()["total"] == 1


def test_test_hooks_exist_only_in_test_mode(tmp_path: Path) -> None:
    assert make_app(tmp_path).test_client().post("/_test/reset").status_code == 404
    test_client = make_app(tmp_path, shop_test_mode=True).test_client()
    charge(test_client, "k-t")
    assert test_client.post("/_test/reset").status_code == 204
    assert test_client.get("/payments").get_json()["total"] == 0


def test_openapi_document_describes_every_payments_operation(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert {
        ("POST", "/payments"),
        ("GET", "/payments"),
        ("GET", "/payments/{payment_id}"),
        ("POST", "/payments/{payment_id}/refund"),
    } <= operations


def void(client: FlaskClient, key: str) -> Any:
    return client.post("/payment-voids", json={"idempotency_key": key})


def test_voiding_an_unused_key_refuses_every_later_charge_under_it(client: FlaskClient) -> None:
    first, again = void(client, "k-void"), void(client, "k-void")
    assert first.status_code == again.status_code == 200
    assert (
        first.get_json()
        == again.get_json()
        == {
            "idempotency_key": "k-void",
            "voided": True,
            "payment": None,
        }
    )
    late = charge(client, "k-void")
    assert late.status_code == 409
    assert late.get_json()["error"] == "idempotency_key_voided"
    assert (
        client.get("/payments", query_string={"idempotency_key": "k-void"}).get_json()["total"] == 0
    )


def test_voiding_a_used_key_answers_its_charge_and_leaves_it_alone(client: FlaskClient) -> None:
    charged = charge(client, "k-used").get_json()
    settled = void(client, "k-used").get_json()
    assert settled == {"idempotency_key": "k-used", "voided": False, "payment": charged}
    replay = charge(client, "k-used")
    assert (replay.status_code, replay.get_json()) == (201, charged)


def test_a_void_needs_a_valid_key(client: FlaskClient) -> None:
    assert void(client, "with space").status_code == 422
    assert client.post("/payment-voids", json={"idempotency_key": "k", "x": 1}).status_code == 422
    assert client.post("/payment-voids", json={}).status_code == 422


def test_a_charge_and_a_void_racing_for_one_key_agree_on_who_won(client: FlaskClient) -> None:
    """Whichever commits first decides: captured and the void answers it, or void and the
    charge refused; never a charge under a key its caller was told is void."""
    for round_ in range(10):
        key = f"k-race-{round_}"
        with ThreadPoolExecutor(max_workers=2) as pool:
            charged = pool.submit(charge, client, key)
            voided = pool.submit(void, client, key)
            charge_answer, void_answer = charged.result(), voided.result().get_json()
        if void_answer["voided"]:
            assert charge_answer.status_code == 409, charge_answer.get_json()
            assert charge_answer.get_json()["error"] == "idempotency_key_voided"
        else:
            assert charge_answer.status_code == 201
            assert void_answer["payment"] == charge_answer.get_json()
