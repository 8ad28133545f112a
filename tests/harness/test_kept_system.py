"""The kept system: reused after a passing cell (faults undone), stopped after a failed one,
after an error, on another topology or settings, and when closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.runtime.kept import KeptSystem


class FakeSystem:
    def __init__(self, number: int, *, restore_fails: bool = False) -> None:
        self.number = number
        self.restored = 0
        self.stopped = False
        self.restore_fails = restore_fails

    def restore(self) -> None:
        if self.restore_fails:
            raise RuntimeError("users did not come back")
        self.restored += 1


class Starts:
    def __init__(self, **options: bool) -> None:
        self.systems: list[FakeSystem] = []
        self.options = options

    @contextmanager
    def __call__(self) -> Iterator[FakeSystem]:
        system = FakeSystem(len(self.systems) + 1, **self.options)
        self.systems.append(system)
        try:
            yield system
        finally:
            system.stopped = True


def test_a_system_is_kept_after_a_passing_cell_with_its_faults_undone() -> None:
    kept, start = KeptSystem(), Starts()
    first = kept.get("k", start)
    kept.ran_cell(keep=True)
    second = kept.get("k", start)
    assert second is first
    assert (first.restored, kept.cells, len(start.systems)) == (1, 1, 1)
    kept.close()
    assert first.stopped


def test_a_failed_cell_stops_its_system_and_the_next_cell_gets_a_fresh_one() -> None:
    kept, start = KeptSystem(), Starts()
    first = kept.get("k", start)
    kept.ran_cell(keep=False)
    assert first.stopped
    second = kept.get("k", start)
    assert second is not first
    assert kept.cells == 0


def test_other_settings_stop_the_kept_system_and_start_one_for_them() -> None:
    kept, start = KeptSystem(), Starts()
    first = kept.get(("topology", "env-a"), start)
    kept.ran_cell(keep=True)
    second = kept.get(("topology", "env-b"), start)
    assert first.stopped
    assert not second.stopped
    assert first.restored == 0


def test_a_system_that_cannot_be_restored_is_replaced() -> None:
    kept, start = KeptSystem(), Starts(restore_fails=True)
    first = kept.get("k", start)
    kept.ran_cell(keep=True)
    second = kept.get("k", start)
    assert first.stopped
    assert second is not first
    assert not second.stopped
    kept.close()


def test_a_start_that_fails_leaves_nothing_kept() -> None:
    kept = KeptSystem()

    @contextmanager
    def broken() -> Iterator[FakeSystem]:
        raise OSError("port taken")
        yield FakeSystem(0)  # pragma: no cover

    with pytest.raises(OSError, match="port taken"):
        kept.get("k", broken)
    start = Starts()
    assert kept.get("k", start) is start.systems[0]
    kept.close()
