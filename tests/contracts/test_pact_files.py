"""Reading pact files and mapping them onto a topology's edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contracts_testing import SHOP_TOPOLOGY

from harness.contracts import PactFile, PactFileError, edge_coverage, load_pacts, read_pact
from harness.contracts.coverage import pacts_without_edge
from harness.topology import Topology, load_topology, parse_topology


def write_pact(directory: Path, name: str, document: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def v4_pact(consumer: str, provider: str, *types: str) -> dict[str, Any]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": [
            {"description": f"interaction {i}", "type": kind, "providerStates": [{"name": "s"}]}
            for i, kind in enumerate(types)
        ],
    }


def topology(*edges: str) -> Topology:
    services = {name: {"app": f"{name}:app"} for name in ("gateway", "orders", "users", "mail")}
    return parse_topology({"edges": list(edges), "services": services})


def test_a_v4_pact_reads_http_and_message_interactions(tmp_path: Path) -> None:
    path = write_pact(
        tmp_path, "a.json", v4_pact("orders", "users", "Synchronous/HTTP", "Asynchronous/Messages")
    )
    pact = read_pact(path)
    assert (pact.consumer, pact.provider, pact.pair) == ("orders", "users", "orders->users")
    assert [i.kind for i in pact.interactions] == ["http", "message"]
    assert pact.interactions[0].states == ("s",)
    assert pact.has_http
    assert pact.has_messages


def test_a_v3_message_pact_and_a_v2_provider_state_are_understood(tmp_path: Path) -> None:
    document = {
        "consumer": {"name": "mail"},
        "provider": {"name": "orders"},
        "messages": [{"description": "an event", "providerStates": [{"name": "x"}]}],
        "interactions": [{"description": "old", "providerState": "a user exists"}],
    }
    pact = read_pact(write_pact(tmp_path, "b.json", document))
    assert [(i.kind, i.states) for i in pact.interactions] == [
        ("http", ("a user exists",)),
        ("message", ("x",)),
    ]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("{not json", "not valid JSON"),
        ([], "expected a JSON object (a pact), got list"),
        ({"provider": {"name": "p"}}, "consumer.name: expected the consumer's name"),
        (
            {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": {}},
            "interactions: expected a list",
        ),
        (
            {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{}]},
            "interactions[0]: expected an object with a 'description'",
        ),
    ],
)
def test_a_bad_pact_file_is_named_with_its_problem(
    tmp_path: Path, document: Any, problem: str
) -> None:
    path = write_pact(tmp_path, "bad.json", document)
    with pytest.raises(PactFileError) as error:
        read_pact(path)
    assert str(error.value).startswith(f"{path}: ")
    assert problem in str(error.value)


def test_a_missing_or_empty_pact_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PactFileError, match="no such pact directory"):
        load_pacts(tmp_path / "nope")
    with pytest.raises(PactFileError, match=r"no pact files \(\*\.json\)"):
        load_pacts(tmp_path)


def test_coverage_lists_every_edge_and_the_http_pacts_covering_it(tmp_path: Path) -> None:
    write_pact(tmp_path, "gateway-users.json", v4_pact("gateway", "users", "Synchronous/HTTP"))
    write_pact(tmp_path, "mail-orders.json", v4_pact("mail", "orders", "Asynchronous/Messages"))
    write_pact(tmp_path, "x-y.json", v4_pact("x", "y", "Synchronous/HTTP"))
    pacts = load_pacts(tmp_path)
    spec = topology("gateway -> users", "gateway -> orders", "orders -> mail")

    rows = {row.edge: row for row in edge_coverage(spec, pacts)}

    assert list(rows) == ["gateway->users", "gateway->orders", "orders->mail"]
    assert rows["gateway->users"].covered
    assert rows["gateway->users"].pacts == ("gateway-users.json",)
    # A message pact runs the other way (orders sends to mail): it covers no call edge.
    assert not rows["orders->mail"].covered
    assert not rows["gateway->orders"].covered
    others = [p.path.name for p in pacts_without_edge(spec, pacts)]
    assert others == ["mail-orders.json", "x-y.json"]


def test_every_edge_of_the_reference_shop_has_a_pact(shop_pacts: list[PactFile]) -> None:
    rows = edge_coverage(load_topology(SHOP_TOPOLOGY), shop_pacts)
    assert rows, "the shop has edges"
    assert [row.edge for row in rows if not row.covered] == []
    messages = [p for p in shop_pacts if p.has_messages]
    assert [(p.consumer, p.provider) for p in messages] == [("notifications", "orders")]
