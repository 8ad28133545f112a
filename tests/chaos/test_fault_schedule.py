"""The fault schedule: parsing, timing, the timeline, and rollback that always runs."""

from __future__ import annotations

import pytest
from chaos_fakes import FakeClock, FakeSystem

from harness.faults import (
    EdgeFault,
    FaultScheduleError,
    FaultScheduleExecutor,
    ProcessFault,
    check_targets,
    parse_fault_schedule,
    schedule_end,
)


def _schedule(*faults: dict[str, object]) -> list[EdgeFault | ProcessFault]:
    return parse_fault_schedule(list(faults), source="test.yaml")


# --- parsing ---------------------------------------------------------------------------


def test_edge_and_process_faults_are_told_apart_by_their_keys() -> None:
    faults = _schedule(
        {"edge": "orders -> payments", "toxic": "latency", "attributes": {"latency": 1500}},
        {"service": "orders", "action": "kill", "start": "2s", "duration": "500ms"},
    )
    edge, process = faults
    assert isinstance(edge, EdgeFault)
    assert edge.edge == "orders->payments"
    assert edge.stream == "downstream"
    assert isinstance(process, ProcessFault)
    assert (process.start, process.duration, process.end) == (2.0, 0.5, 2.5)


def test_unknown_toxic_error_names_file_key_path_and_expectation() -> None:
    with pytest.raises(FaultScheduleError) as caught:
        _schedule({"edge": "a->b", "toxic": "latency"}, {"edge": "a->b", "toxic": "lag"})
    message = str(caught.value)
    assert message.startswith("test.yaml: faults.1: unknown toxic 'lag'")
    assert "expected one of latency" in message
    assert "partition" in message


def test_attribute_a_toxic_does_not_have_is_rejected() -> None:
    with pytest.raises(
        FaultScheduleError, match=r"faults\.0: toxic 'latency' has no attribute 'rate'"
    ):
        _schedule({"edge": "a->b", "toxic": "latency", "attributes": {"rate": 5}})


def test_bad_duration_error_names_the_key() -> None:
    with pytest.raises(FaultScheduleError, match=r"test.yaml: faults\.0\.start: .*'5 seconds'"):
        _schedule({"edge": "a->b", "toxic": "partition", "start": "5 seconds"})


def test_fault_without_edge_or_service_says_what_is_expected() -> None:
    with pytest.raises(FaultScheduleError, match=r"names either `edge`.*or `service`"):
        _schedule({"toxic": "latency"})


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(FaultScheduleError, match=r"faults\.0\.durations: Extra inputs"):
        _schedule({"service": "orders", "action": "pause", "durations": 3})


def test_restart_with_a_duration_is_rejected() -> None:
    with pytest.raises(FaultScheduleError, match="restart is instantaneous"):
        _schedule({"service": "orders", "action": "restart", "duration": 3})


def test_overlapping_partitions_of_one_edge_are_rejected() -> None:
    with pytest.raises(FaultScheduleError, match=r"faults\.1: .* overlaps faults\.0"):
        _schedule(
            {"edge": "a->b", "toxic": "partition", "start": 0, "duration": 5},
            {"edge": "a->b", "toxic": "partition", "start": 4, "duration": 5},
        )


def test_back_to_back_process_faults_do_not_overlap() -> None:
    faults = _schedule(
        {"service": "orders", "action": "pause", "start": 0, "duration": 2},
        {"service": "orders", "action": "kill", "start": 2, "duration": 1},
    )
    assert schedule_end(faults) == 3.0


def test_unknown_edge_or_service_is_reported_against_the_topology() -> None:
    faults = _schedule({"edge": "orders->mail", "toxic": "partition"})
    with pytest.raises(FaultScheduleError, match=r"faults\.0\.edge: unknown edge 'orders->mail'"):
        check_targets(faults, edges=["orders->payments"], services=["orders"], source="x.yaml")


# --- execution -------------------------------------------------------------------------


def test_toxic_is_applied_at_its_offset_and_removed_after_its_duration() -> None:
    system, clock = FakeSystem(), FakeClock()
    faults = _schedule(
        {
            "edge": "orders->payments",
            "toxic": "latency",
            "attributes": {"latency": 1500},
            "start": 1,
            "duration": 4,
        }
    )
    timeline = FaultScheduleExecutor(faults, system, clock=clock).run()
    assert [(event.action, event.offset) for event in timeline] == [("apply", 1.0), ("remove", 5.0)]
    assert all(event.ok for event in timeline)
    assert timeline[0].at == clock.wall_start + 1.0
    assert "latency latency=1500 on orders->payments" in timeline[0].description
    assert system.injector.toxics["orders->payments"] == {}


def test_toxic_is_added_with_the_declared_stream_toxicity_and_attributes() -> None:
    system = FakeSystem()
    faults = _schedule(
        {
            "edge": "gateway->users",
            "toxic": "reset_peer",
            "stream": "upstream",
            "toxicity": 0.5,
            "attributes": {"timeout": 0},
        }
    )
    executor = FaultScheduleExecutor(faults, system, clock=FakeClock())
    executor.start()
    assert executor.wait(timeout=5)
    (toxic,) = system.injector.toxics["gateway->users"].values()
    assert toxic == {
        "type": "reset_peer",
        "stream": "upstream",
        "toxicity": 0.5,
        "attributes": {"timeout": 0},
    }
    executor.stop()
    assert system.injector.toxics["gateway->users"] == {}


def test_partition_is_healed_after_its_duration() -> None:
    system = FakeSystem()
    faults = _schedule(
        {"edge": "orders->inventory", "toxic": "partition", "start": 0, "duration": 3}
    )
    FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    assert system.log == ["partition orders->inventory", "heal orders->inventory"]


def test_killed_service_is_restarted_and_waited_for_when_its_duration_ends() -> None:
    system = FakeSystem()
    faults = _schedule({"service": "orders", "action": "kill", "start": 2, "duration": 1})
    timeline = FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    assert system.log == ["kill orders", "restart orders", "wait_healthy orders"]
    assert [event.action for event in timeline] == ["apply", "remove"]


def test_paused_service_is_resumed_and_restart_is_instantaneous() -> None:
    system = FakeSystem()
    faults = _schedule(
        {"service": "payments", "action": "pause", "start": 0, "duration": 2},
        {"service": "orders", "action": "restart", "start": 1},
    )
    FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    assert system.log == [
        "pause payments",
        "restart orders",
        "wait_healthy orders",
        "resume payments",
    ]


def test_steps_run_in_time_order_whatever_the_declaration_order() -> None:
    system = FakeSystem()
    faults = _schedule(
        {"service": "orders", "action": "pause", "start": 5, "duration": 1},
        {"edge": "a->b", "toxic": "partition", "start": 1, "duration": 1},
    )
    timeline = FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    assert [event.offset for event in timeline] == [1.0, 2.0, 5.0, 6.0]


def test_fault_without_duration_lasts_until_rollback() -> None:
    system = FakeSystem()
    faults = _schedule({"edge": "a->b", "toxic": "partition", "start": 1})
    timeline = FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    assert [event.action for event in timeline] == ["apply", "rollback"]
    assert system.injector.partitioned == set()


def test_stop_cancels_pending_steps_and_rolls_back_what_was_applied() -> None:
    system, clock = FakeSystem(), FakeClock(block_after=2.0)
    faults = _schedule(
        {"service": "orders", "action": "kill", "start": 0, "duration": 10},
        {"edge": "a->b", "toxic": "latency", "attributes": {"latency": 10}, "start": 1},
        {"edge": "a->b", "toxic": "partition", "start": 5},
    )
    with FaultScheduleExecutor(faults, system, clock=clock) as executor:
        assert clock.waiting.wait(timeout=5)
        assert sorted(executor.active) == ["kill orders", "latency latency=10 on a->b (downstream)"]
    assert system.dead == set()
    assert system.injector.active_toxics() == []
    assert "partition a->b" not in system.log
    actions = [(event.action, event.fault_index) for event in executor.timeline]
    assert actions == [("apply", 0), ("apply", 1), ("rollback", 1), ("rollback", 0)]
    assert executor.active == []


def test_failed_apply_is_recorded_and_the_schedule_carries_on() -> None:
    system = FakeSystem()
    system.injector.fail_on.add("add_toxic")
    faults = _schedule(
        {"edge": "a->b", "toxic": "latency", "start": 0, "duration": 1},
        {"service": "orders", "action": "pause", "start": 2, "duration": 1},
    )
    executor = FaultScheduleExecutor(faults, system, clock=FakeClock())
    timeline = executor.run()
    assert [(event.action, event.ok) for event in timeline] == [
        ("apply", False),
        ("apply", True),
        ("remove", True),
    ]
    assert executor.errors[0].error == "RuntimeError: injected failure in add_toxic"


def test_rollback_failure_is_recorded_and_other_rollbacks_still_run() -> None:
    system = FakeSystem()
    system.injector.fail_on.add("heal")
    faults = _schedule(
        {"edge": "a->b", "toxic": "partition", "start": 0},
        {"service": "orders", "action": "pause", "start": 0},
    )
    timeline = FaultScheduleExecutor(faults, system, clock=FakeClock()).run()
    rollbacks = [(event.target, event.ok) for event in timeline if event.action == "rollback"]
    assert rollbacks == [("orders", True), ("a->b", False)]
    assert system.paused == set()


def test_interrupt_while_applying_still_rolls_back() -> None:
    system = FakeSystem()
    system.raise_on["pause orders"] = KeyboardInterrupt()
    faults = _schedule(
        {"edge": "a->b", "toxic": "partition", "start": 0},
        {"service": "orders", "action": "pause", "start": 1},
    )
    executor = FaultScheduleExecutor(faults, system, clock=FakeClock())
    with pytest.raises(KeyboardInterrupt):
        executor.run()
    assert system.injector.partitioned == set()
    assert system.log[-1] == "heal a->b"


def test_each_event_reaches_the_listener_as_it_happens() -> None:
    seen: list[str] = []
    faults = _schedule({"edge": "a->b", "toxic": "partition", "start": 0, "duration": 1})
    FaultScheduleExecutor(
        faults, FakeSystem(), clock=FakeClock(), on_event=lambda e: seen.append(e.action)
    ).run()
    assert seen == ["apply", "remove"]


def test_malformed_edge_error_points_at_the_edge_key() -> None:
    with pytest.raises(FaultScheduleError, match=r"^test.yaml: faults\.0\.edge: expected an edge"):
        _schedule({"edge": "orders", "toxic": "partition"})


def test_a_repeated_fault_becomes_pulses_with_its_label_and_file_index() -> None:
    faults = _schedule(
        {"service": "orders", "action": "pause", "start": 0, "duration": 1},
        {
            "label": "resets",
            "edge": "a->b",
            "toxic": "reset_peer",
            "start": "2s",
            "duration": "300ms",
            "repeat": {"every": "600ms", "times": 3},
        },
    )
    pulses = faults[1:]
    assert [(f.start, f.end) for f in pulses] == pytest.approx([(2.0, 2.3), (2.6, 2.9), (3.2, 3.5)])
    assert {f.label for f in pulses} == {"resets"}
    assert [f.declared_index for f in faults] == [0, 1, 1, 1]
    timeline = FaultScheduleExecutor(faults, FakeSystem(), clock=FakeClock()).run()
    assert [e.action for e in timeline if e.label == "resets"] == ["apply", "remove"] * 3


def test_pulses_longer_than_their_period_are_rejected() -> None:
    with pytest.raises(FaultScheduleError, match=r"faults\.0: a repeated fault needs a `duration`"):
        _schedule(
            {"edge": "a->b", "toxic": "latency", "duration": 2, "repeat": {"every": 1, "times": 2}}
        )


def test_unknown_edge_in_a_repeated_fault_names_the_entry_in_the_file() -> None:
    faults = _schedule(
        {"edge": "a->b", "toxic": "latency", "duration": 1, "repeat": {"every": 2, "times": 3}},
        {"edge": "x->y", "toxic": "latency"},
    )
    with pytest.raises(FaultScheduleError, match=r"faults\.1\.edge: unknown edge 'x->y'"):
        check_targets(faults, edges=["a->b"], services=[])
