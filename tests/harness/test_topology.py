"""The topology file: what a valid `system.toml` gives, and how a malformed one is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.topology import TopologyError, load_topology, parse_topology, render_template

VALID = """
edges = ["orders -> payments", { from = "gateway", to = "orders", env = "ORDERS_BASE" }]

[system]
name = "mini"
startup_timeout = 12
env = { LOG_LEVEL = "DEBUG", RETRIES = 3, ENABLED = true }

[services.gateway]
app = "gw.app:app"

[services.orders]
app = "orders.app:app"
env = { DATABASE_URL = "sqlite:///{run_dir}/{name}.db" }

[services.payments]
app = "payments.app:app"
kind = "wsgi"
port = 8123
conventions = { health = "/healthz" }
url = "http://127.0.0.1:8123/"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "system.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_topology_gives_typed_services_and_named_edges(tmp_path: Path) -> None:
    topology = load_topology(write(tmp_path, VALID))

    assert list(topology.services) == ["gateway", "orders", "payments"]
    payments = topology.services["payments"]
    assert (payments.kind, payments.port, payments.health) == ("wsgi", 8123, "/healthz")
    assert payments.url == "http://127.0.0.1:8123"
    assert [(e.name, e.env_var) for e in topology.edges] == [
        ("orders->payments", "PAYMENTS_URL"),
        ("gateway->orders", "ORDERS_BASE"),
    ]
    assert topology.system.startup_timeout == 12.0
    assert topology.base_dir == tmp_path.resolve()
    assert topology.edge("orders -> payments").target == "payments"


def test_env_placeholders_are_rendered_per_service(tmp_path: Path) -> None:
    orders = load_topology(write(tmp_path, VALID)).services["orders"]
    env = orders.rendered_env({"run_dir": "/runs/1", "name": "orders"})
    assert env == {"DATABASE_URL": "sqlite:////runs/1/orders.db"}
    assert render_template("{{literal}} {port}", {"port": "80"}) == "{literal} 80"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '[services.a]\napp = "m:app"\nprot = 80\n',
            ["services.a.prot", "unknown key 'prot'", "port"],
            id="unknown-key",
        ),
        pytest.param(
            'edges = ["a -> ghost"]\n[services.a]\napp = "m:app"\n',
            ["edges[0].to", "unknown service 'ghost'", "services are: a"],
            id="edge-to-unknown-service",
        ),
        pytest.param(
            '[services.a]\napp = "m:app"\nport = 70000\n',
            ["services.a.port", "0 to 65535", "70000"],
            id="port-out-of-range",
        ),
        pytest.param(
            '[services.a]\napp = "m:app"\nport = "http"\n',
            ["services.a.port", "'http'"],
            id="port-not-a-number",
        ),
        pytest.param(
            'edges = ["a => b"]\n[services.a]\napp = "m:app"\n',
            ["edges[0]", "expected 'source -> target'"],
            id="edge-without-arrow",
        ),
        pytest.param(
            '[services.a]\napp = "m:app"\nenv = { X = "{home}" }\n',
            ["services.a.env", "unknown placeholder {home}", "{run_dir}"],
            id="unknown-placeholder",
        ),
        pytest.param(
            '[services.a]\nkind = "asgi"\n',
            ["services.a", "give 'app'"],
            id="no-way-to-start",
        ),
        pytest.param(
            '[services.a]\napp = "not a path"\n',
            ["services.a.app", "package.module:attribute"],
            id="bad-app-path",
        ),
        pytest.param(
            '[services.a]\napp = "m:app"\nport = 9000\n[services.b]\napp = "m:b"\nport = 9000\n',
            ["services.b.port", "also used by service 'a'"],
            id="duplicate-fixed-port",
        ),
        pytest.param("[services\n", ["not valid TOML"], id="bad-toml"),
    ],
)
def test_malformed_topology_names_file_key_and_expectation(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_every_problem_is_reported_at_once() -> None:
    data = {"system": {"nme": "x"}, "services": {"a": {"app": "m:app", "port": -1}}}
    with pytest.raises(TopologyError) as caught:
        parse_topology(data, source="inline.toml")
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert "system.nme" in message
    assert "services.a.port" in message


def test_missing_file_is_a_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "absent.toml")


def test_edge_env_var_must_not_also_be_set_by_hand() -> None:
    data = {
        "services": {"a": {"app": "m:app", "env": {"B_URL": "x"}}, "b": {"app": "m:b"}},
        "edges": ["a -> b"],
    }
    with pytest.raises(TopologyError, match=r"services\.a\.env\.B_URL: set by edge"):
        parse_topology(data)


def test_with_env_adds_shared_env_that_wins_and_keeps_the_file(tmp_path: Path) -> None:
    topology = load_topology(write(tmp_path, VALID))
    changed = topology.with_env({"RETRIES": 0, "EXTRA": "x"})
    assert changed.system.env == {"LOG_LEVEL": "DEBUG", "RETRIES": 0, "ENABLED": True, "EXTRA": "x"}
    assert topology.system.env["RETRIES"] == 3  # the original is untouched
    assert changed.path == topology.path
    assert topology.with_env({}) is topology


def test_with_service_env_adds_to_the_named_services_only(tmp_path: Path) -> None:
    topology = load_topology(write(tmp_path, VALID))
    changed = topology.with_service_env({"orders": {"DATABASE_URL": "sqlite://", "SLOW": "1"}})
    assert changed.services["orders"].env == {"DATABASE_URL": "sqlite://", "SLOW": "1"}
    assert changed.services["gateway"].env == {}
    assert topology.services["orders"].env["DATABASE_URL"].startswith("sqlite:///{run_dir}")


def test_with_service_env_names_an_unknown_service(tmp_path: Path) -> None:
    topology = load_topology(write(tmp_path, VALID))
    with pytest.raises(TopologyError, match=r"service_env\.billing: no service 'billing'"):
        topology.with_service_env({"billing": {"X": "1"}})


def test_two_edges_handing_one_caller_the_same_variable_are_refused_naming_both() -> None:
    data = {
        "services": {"orders": {"app": "o:app"}, "users-x": {"app": "u:app"}},
        "edges": ["orders -> users-x", {"from": "orders", "to": "users_x"}],
    }
    data["services"]["users_x"] = {"app": "u:app"}
    with pytest.raises(TopologyError) as caught:
        parse_topology(data)
    message = str(caught.value)
    assert "'orders -> users-x' and 'orders -> users_x'" in message
    assert "USERS_X_URL" in message
    # Naming the variable of one of them resolves it.
    data["edges"] = ["orders -> users-x", {"from": "orders", "to": "users_x", "env": "UX_URL"}]
    assert [e.env_var for e in parse_topology(data).edges] == ["USERS_X_URL", "UX_URL"]


def test_conventions_fill_from_the_system_and_default_to_nothing_assumed() -> None:
    topology = parse_topology(
        {
            "conventions": {"health": "/health", "breaker": {"metric": "cb_state"}},
            "services": {
                "a": {"app": "a:app", "conventions": {"health": "/ping", "openapi": ""}},
                "b": {"app": "b:app"},
            },
        }
    )
    a, b = topology.conventions_for("a"), topology.conventions_for("b")
    assert (a.health, a.openapi, a.breaker is not None) == ("/ping", "", True)
    assert (b.health, b.openapi) == ("/health", "/openapi.json")
    bare = parse_topology({"services": {"c": {"command": ["c"]}}}).conventions_for("c")
    assert (bare.health, bare.metrics, bare.provider_states, bare.error_body) == ("", "", "", ())
    assert bare.breaker is None


def test_an_unknown_convention_names_its_key_and_the_valid_ones() -> None:
    with pytest.raises(TopologyError, match=r"services\.a\.conventions\.helth: unknown key"):
        parse_topology({"services": {"a": {"app": "a:app", "conventions": {"helth": "/"}}}})
