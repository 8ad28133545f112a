"""Fault schedules know every toxic of the fault proxy's registry, HTTP toxics included,
with the type of each attribute."""

from __future__ import annotations

import pytest

from harness import http_clients
from harness.faultproxy.toxics import TOXICS
from harness.faults import (
    EDGE_TOXICS,
    FaultInjector,
    FaultScheduleError,
    FaultScheduleExecutor,
    ToxiproxyClient,
    parse_fault_schedule,
)

from .http_upstream import HttpUpstream
from .support import Api, embedded_only, wait_until


def test_schedule_toxics_are_the_proxy_registry() -> None:
    assert set(EDGE_TOXICS) == set(TOXICS)
    for name, toxic in TOXICS.items():
        assert EDGE_TOXICS[name] == {f.json_name for f in toxic.go_struct().fields}
    assert EDGE_TOXICS["http_error"] == {"method", "path", "first", "status", "body", "headers"}
    assert EDGE_TOXICS["http_delay"] == {"method", "path", "first", "latency", "jitter"}
    assert EDGE_TOXICS["latency"] == {"latency", "jitter"}


def test_an_http_toxic_in_a_schedule_keeps_its_strings_and_headers() -> None:
    (fault,) = parse_fault_schedule(
        [
            {
                "edge": "orders -> payments",
                "toxic": "http_error",
                "toxicity": 0.3,
                "duration": "5s",
                "attributes": {
                    "method": "POST",
                    "path": "^/payments",
                    "status": 503,
                    "headers": {"Retry-After": "1"},
                },
            }
        ]
    )
    assert fault.attributes == {
        "method": "POST",
        "path": "^/payments",
        "status": 503,
        "headers": {"Retry-After": "1"},
    }


@pytest.mark.parametrize(
    ("toxic", "attributes", "message"),
    [
        (
            "http_error",
            {"status": "503"},
            "attribute 'status' of toxic 'http_error' must be an integer",
        ),
        ("http_error", {"path": 5}, "attribute 'path' of toxic 'http_error' must be a string"),
        ("http_error", {"headers": "X-A: 1"}, "must be a mapping of strings"),
        ("latency", {"latency": -1}, r"must be an integer \(0 or more\), got -1"),
        ("http_drop", {"status": 500}, "toxic 'http_drop' has no attribute 'status'"),
    ],
)
def test_wrong_attribute_types_are_named(
    toxic: str, attributes: dict[str, object], message: str
) -> None:
    with pytest.raises(FaultScheduleError, match=message):
        parse_fault_schedule([{"edge": "a->b", "toxic": toxic, "attributes": attributes}])


class _Edges:
    """A FaultTarget with edges only (the executor never touches services here)."""

    def __init__(self, faults: FaultInjector) -> None:
        self.faults = faults


@embedded_only
def test_a_schedule_applies_an_http_toxic_and_rolls_it_back(
    api: Api, http_server: HttpUpstream, toxiproxy_url: str
) -> None:
    proxy = api.create_proxy(http_server.address)
    injector = FaultInjector(ToxiproxyClient(toxiproxy_url), {"orders->payments": proxy.name})
    faults = parse_fault_schedule(
        [
            {
                "edge": "orders->payments",
                "toxic": "http_error",
                "attributes": {"method": "POST", "status": 502, "body": "scheduled"},
            }
        ]
    )
    executor = FaultScheduleExecutor(faults, _Edges(injector))  # type: ignore[arg-type]
    executor.start()
    try:
        wait_until(lambda: bool(injector.toxics("orders->payments")))
        with http_clients.client(base_url=f"http://{proxy.listen}") as client:
            failed = client.post("/payments")
            assert (failed.status_code, failed.text) == (502, "scheduled")
            assert client.get("/payments").status_code == 200
    finally:
        executor.stop()
    assert injector.toxics("orders->payments") == []
    assert http_clients.post(f"http://{proxy.listen}/payments").status_code == 200
