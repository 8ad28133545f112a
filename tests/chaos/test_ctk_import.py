"""`harness chaos import`: Chaos Toolkit experiments (chaostoolkit-toxiproxy actions, HTTP
steady-state probes) into the harness's format, on Chaos Toolkit's own timeline; what
cannot be imported is named. The imported experiments validate with the harness's loader
and run on real systems (the runtime's mini system; node-shop when Node.js is there), and
Chaos Toolkit itself drives the harness's fault proxy when it is installed."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chaos_paths import ROOT
from typer.testing import CliRunner

from harness.chaos.cli import app
from harness.chaos.ctk_import import CtkImportError, import_ctk, import_ctk_file
from harness.chaos.loader import load_experiment
from harness.faults import EdgeFault
from harness.topology import Topology, load_topology

DATA = Path(__file__).parent / "data"
NODE_SHOP_CTK = DATA / "node_shop_slow_users.json"
MINI_CTK = DATA / "mini_caller_faults.json"
MINI_TOPOLOGY = ROOT / "tests" / "harness" / "apps" / "system.toml"
NODE_SHOP_TOPOLOGY = ROOT / "examples" / "node-shop" / "system.toml"

runner = CliRunner()


def ctk(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def faults_of(imported_faults: list[EdgeFault]) -> list[tuple[str, str, str, float, float | None]]:
    return [(f.label or "", f.edge, f.toxic, f.start, f.duration) for f in imported_faults]


@pytest.fixture(scope="module")
def mini() -> Topology:
    return load_topology(MINI_TOPOLOGY)


# --- what is imported ------------------------------------------------------------------------


def test_toxics_and_partitions_follow_chaos_toolkits_timeline() -> None:
    imported = import_ctk_file(NODE_SHOP_CTK, topology=load_topology(NODE_SHOP_TOPOLOGY))
    experiment = imported.experiment
    # latency created at 0, 4 s pause, probe, deleted; 1 s; disable; 2 s; probe; 1 s; enable
    assert faults_of(experiment.method.faults) == [  # type: ignore[arg-type]
        ("slow-users", "orders->users", "latency", 0.0, 4.0),
        ("cut-the-gateway-off-from-users", "gateway->users", "partition", 5.0, 3.0),
    ]
    latency = experiment.method.faults[0]
    assert isinstance(latency, EdgeFault)
    assert (latency.stream, latency.attributes) == ("downstream", {"latency": 1500})
    assert experiment.method.effective_duration == 10.0
    assert experiment.title.startswith("orders refuses fast when users is slow")
    assert experiment.tags == ["toxiproxy", "latency", "partition"]


def test_steady_state_http_probes_name_the_service_from_the_url_placeholder() -> None:
    imported = import_ctk_file(NODE_SHOP_CTK)
    probes = imported.experiment.steady_state.probes
    assert [(p.name, p.http.service, p.http.path, p.status) for p in probes] == [  # type: ignore[union-attr]
        ("gateway answers", "gateway", "/healthz", [200]),
        ("orders answers", "orders", "/healthz", [200]),
        ("users lists its users", "users", "/users", [200]),
    ]
    assert probes[0].http.timeout == 3.0  # type: ignore[union-attr]
    assert imported.experiment.steady_state.title == (
        "every node-shop service answers its health check"
    )


def test_method_probes_are_skipped_with_a_warning_each() -> None:
    imported = import_ctk_file(NODE_SHOP_CTK)
    assert len(imported.warnings) == 2
    assert "method[1] probe 'an order while users is slow' skipped" in imported.warnings[0]


def test_generic_toxics_config_values_reset_and_status_ranges(mini: Topology) -> None:
    imported = import_ctk_file(MINI_CTK, topology=mini)
    faults = imported.experiment.method.faults
    # the pause before counts; reset ends both faults at 1 + 2 + 1.5
    assert faults_of(faults) == [  # type: ignore[arg-type]
        ("slow-echo", "caller->echo", "latency", 1.0, 3.5),
        ("cut-legacy", "caller->legacy", "partition", 3.0, 1.5),
    ]
    slow = faults[0]
    assert isinstance(slow, EdgeFault)
    assert (slow.stream, slow.toxicity) == ("upstream", 0.5)
    assert slow.attributes == {"latency": 300, "jitter": 50}
    echo = imported.experiment.steady_state.probes[1]
    assert echo.status == list(range(200, 300))  # type: ignore[union-attr]


def test_a_fault_the_method_never_removes_lasts_until_rollback() -> None:
    data = ctk("mini_caller_faults.json")
    del data["method"][2]  # no reset
    experiment = import_ctk(data).experiment
    assert [f.duration for f in experiment.method.faults] == [None, None]
    assert experiment.method.effective_duration == 4.5


def test_every_shortcut_toxic_becomes_its_toxiproxy_type() -> None:
    shortcuts = {
        "create_bandwith_degradation_toxic": ({"rate": 10}, "bandwidth", {"rate": 10}),
        "create_slow_connection_close_toxic": ({"delay": 5}, "slow_close", {"delay": 5}),
        "create_timeout_toxic": ({"timeout": 100}, "timeout", {"timeout": 100}),
        "create_slicer_toxic": (
            {"average_size": 8, "size_variation": 2, "delay": 1},
            "slicer",
            {"average_size": 8, "size_variation": 2, "delay": 1},
        ),
        "create_limiter_toxic": ({"bytes_limit": 512}, "limit_data", {"bytes": 512}),
    }
    for func, (arguments, toxic, attributes) in shortcuts.items():
        data = ctk("mini_caller_faults.json")
        data["method"][0]["provider"] = {
            "type": "python",
            "module": "chaostoxi.toxic.actions",
            "func": func,
            "arguments": {"for_proxy": "caller->echo", "toxic_name": "t", **arguments},
        }
        fault = import_ctk(data).experiment.method.faults[0]
        assert isinstance(fault, EdgeFault)
        assert (fault.toxic, fault.attributes) == (toxic, attributes), func


def test_the_yaml_written_loads_back_as_the_same_experiment(tmp_path: Path, mini: Topology) -> None:
    imported = import_ctk_file(MINI_CTK, topology=mini)
    out = tmp_path / "imported.yaml"
    out.write_text(imported.to_yaml(source=str(MINI_CTK)))
    loaded = load_experiment(out)
    assert loaded.model_dump() == imported.experiment.model_dump()
    assert out.read_text().startswith("# Imported from the Chaos Toolkit experiment")


# --- what is refused ---------------------------------------------------------------------------


def test_unsupported_activities_are_all_named() -> None:
    data = ctk("mini_caller_faults.json")
    data["method"].insert(
        0,
        {
            "type": "action",
            "name": "drop the proxy",
            "provider": {
                "type": "python",
                "module": "chaostoxi.proxy.actions",
                "func": "delete_proxy",
                "arguments": {"proxy_name": "caller->echo"},
            },
        },
    )
    data["method"].append(
        {"type": "action", "name": "kill it", "provider": {"type": "process", "path": "kill"}}
    )
    data["rollbacks"].append(
        {"type": "action", "name": "page", "provider": {"type": "http", "url": "http://x"}}
    )
    with pytest.raises(CtkImportError) as error:
        import_ctk(data, source="x.json")
    lines = str(error.value).splitlines()
    assert len(lines) == 3
    assert (
        "x.json: method[0] ('drop the proxy'): chaostoxi.proxy.actions.delete_proxy is not"
        in (lines[0])
    )
    assert "method[4] ('kill it'): a process action is not supported" in lines[1]
    assert "rollbacks[1] ('page'): a http action is not supported" in lines[2]


def test_a_literal_url_and_a_body_tolerance_are_refused_saying_why() -> None:
    data = ctk("mini_caller_faults.json")
    probes = data["steady-state-hypothesis"]["probes"]
    probes[0]["provider"]["url"] = "http://127.0.0.1:8080/health"
    probes[1]["tolerance"] = {"type": "regex", "pattern": "hello", "target": "body"}
    with pytest.raises(CtkImportError) as error:
        import_ctk(data)
    message = str(error.value)
    assert "does not say which service it asks; write it as ${<service>_url}/path" in message
    assert 'tolerance {"type": "regex"' in message
    assert "is not an HTTP status, a list of statuses or a range" in message


def test_proxies_and_services_are_checked_against_the_topology(mini: Topology) -> None:
    data = ctk("mini_caller_faults.json")
    data["configuration"]["echo_proxy"] = "caller->nowhere"
    data["steady-state-hypothesis"]["probes"][0]["provider"]["url"] = "${billing_url}/health"
    with pytest.raises(CtkImportError) as error:
        import_ctk(data, topology=mini)
    message = str(error.value)
    assert "no edge of the topology has the proxy 'caller->nowhere'" in message
    assert "caller->echo, caller->legacy" in message
    assert "${billing_url} names service 'billing', which the topology does not have" in message


def test_a_proxy_not_named_like_an_edge_needs_the_topology() -> None:
    data = ctk("mini_caller_faults.json")
    data["configuration"]["echo_proxy"] = "echo_proxy"
    with pytest.raises(CtkImportError, match="not named 'source->target'"):
        import_ctk(data)


def test_deleting_a_toxic_the_method_never_created_is_an_error() -> None:
    data = ctk("node_shop_slow_users.json")
    data["method"][2]["provider"]["arguments"]["toxic_name"] = "other"
    with pytest.raises(CtkImportError, match="deletes toxic 'other' on orders->users, which"):
        import_ctk(data)


def test_a_placeholder_from_the_environment_cannot_name_a_proxy() -> None:
    data = ctk("mini_caller_faults.json")
    data["configuration"]["echo_proxy"] = {"type": "env", "key": "ECHO_PROXY"}
    with pytest.raises(CtkImportError, match=r"\$\{echo_proxy\} is not a literal value"):
        import_ctk(data)


def test_something_that_is_no_experiment_or_has_no_fault_is_refused() -> None:
    with pytest.raises(CtkImportError, match="not a Chaos Toolkit experiment"):
        import_ctk({"title": "x"})
    data = ctk("mini_caller_faults.json")
    data["method"] = []
    with pytest.raises(CtkImportError, match="no chaostoolkit-toxiproxy fault"):
        import_ctk(data)


# --- the command ------------------------------------------------------------------------------


def test_import_command_writes_the_yaml_and_prints_warnings(tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    result = runner.invoke(
        app, ["import", str(NODE_SHOP_CTK), "-t", str(NODE_SHOP_TOPOLOGY), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "warning: method[1] probe" in result.output
    assert f"wrote {out}" in result.output
    assert load_experiment(out).method.faults[0].label == "slow-users"


def test_import_command_prints_to_stdout_without_out() -> None:
    result = runner.invoke(app, ["import", str(MINI_CTK), "-t", str(MINI_TOPOLOGY)])
    assert result.exit_code == 0, result.output
    assert "edge: caller->echo" in result.stdout


def test_import_command_exits_2_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    data = copy.deepcopy(ctk("mini_caller_faults.json"))
    data["method"][0]["provider"]["func"] = "modify_proxy"
    bad.write_text(json.dumps(data))
    unreadable = runner.invoke(app, ["import", str(tmp_path / "missing.json")])
    refused = runner.invoke(app, ["import", str(bad), "-t", str(MINI_TOPOLOGY)])
    assert unreadable.exit_code == 2
    assert "cannot read it" in unreadable.output
    assert refused.exit_code == 2
    assert "chaostoxi.toxic.actions.modify_proxy is not supported" in refused.output


# --- running it ---------------------------------------------------------------------------------


def run_imported(ctk_file: Path, topology: Path, tmp_path: Path) -> dict[str, Any]:
    """Import `ctk_file`, run it with `harness chaos run`, return its journal."""
    experiment = tmp_path / "imported.yaml"
    imported = runner.invoke(
        app, ["import", str(ctk_file), "-t", str(topology), "-o", str(experiment)]
    )
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["run", str(experiment), "-t", str(topology), "--out", str(out), "--no-live"],
        env={"HARNESS_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    journal: dict[str, Any] = json.loads(next(out.glob("*.json")).read_text())
    return journal


@pytest.mark.integration
@pytest.mark.slow
def test_an_imported_experiment_runs_on_a_real_system(tmp_path: Path) -> None:
    journal = run_imported(MINI_CTK, MINI_TOPOLOGY, tmp_path)
    assert journal["status"] == "passed"
    actions = [(f["action"], f["label"]) for f in journal["faults"] if f["ok"]]
    assert actions[:2] == [("apply", "slow-echo"), ("apply", "cut-legacy")]
    assert sorted(actions[2:]) == [("remove", "cut-legacy"), ("remove", "slow-echo")]


@pytest.mark.integration
@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_SHOP_TOPOLOGY.parent / "node_modules").is_dir(),
    reason="node-shop needs Node.js and `npm ci` in examples/node-shop",
)
def test_the_node_shop_example_imports_and_runs(tmp_path: Path) -> None:
    journal = run_imported(NODE_SHOP_CTK, NODE_SHOP_TOPOLOGY, tmp_path)
    assert journal["status"] == "passed"
    assert {f["target"] for f in journal["faults"]} == {"orders->users", "gateway->users"}


CHAOS_CLI = Path(sys.executable).parent / "chaos"


@pytest.mark.integration
@pytest.mark.skipif(
    not CHAOS_CLI.exists(), reason="Chaos Toolkit is not installed (pip install -e '.[interop]')"
)
def test_chaos_toolkit_drives_the_harness_fault_proxy(tmp_path: Path, mini: Topology) -> None:
    from harness.runtime import start_system

    with start_system(mini, home=tmp_path / "home") as system:
        env = {
            **os.environ,
            "TOXIPROXY_URL": system.fault_proxy_url,
            "CALLER_URL": system.url("caller"),
            "ECHO_URL": system.url("echo"),
        }
        done = subprocess.run(
            [str(CHAOS_CLI), "--no-version-check", "run", "--no-verify-tls", str(MINI_CTK)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    assert [run["output"] for run in journal["run"]] == [True, True, True]
