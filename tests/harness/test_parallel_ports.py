"""Free ports picked by systems starting at the same moment: each pick is reserved, so two
harness processes never get the same port (`harness.runtime.ports`)."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pytest

from harness.runtime import ports
from harness.runtime.ports import pick_free_ports, release_ports, reserved_ports

WINDOW = 30  # ports both processes pick from: 10 each would overlap without reservations

# A second harness process: picks 10 ports of the window, prints them, keeps them until its
# stdin closes.
HOLDER = textwrap.dedent(
    """
    import sys
    from harness.runtime import ports
    low = int(sys.argv[1])
    ports._candidate_range = lambda: (low, low + {window} - 1)
    print(" ".join(map(str, ports.pick_free_ports(10))), flush=True)
    sys.stdin.read()
    """
).format(window=WINDOW)


def _holder(low: int) -> tuple[subprocess.Popen[str], set[int]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(low)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    return holder, {int(p) for p in holder.stdout.readline().split()}


@pytest.fixture
def window(monkeypatch: pytest.MonkeyPatch) -> int:
    """The lowest port of a narrow range both this process and the holder pick from."""
    low = random.SystemRandom().randrange(20000, 30000, WINDOW)
    monkeypatch.setattr(ports, "_candidate_range", lambda: (low, low + WINDOW - 1))
    return low


def test_two_processes_picking_from_the_same_ports_never_get_the_same_one(window: int) -> None:
    holder, theirs = _holder(window)
    try:
        mine = pick_free_ports(10)
        try:
            assert len(theirs) == 10
            assert not set(mine) & theirs
        finally:
            release_ports(mine)
    finally:
        holder.communicate("")


def test_a_dead_process_leaves_no_reservation(window: int) -> None:
    holder, theirs = _holder(window)
    assert not any(ports._reserve(port) for port in theirs)  # held by the live holder
    holder.kill()
    holder.wait()
    try:
        assert all(ports._reserve(port) for port in theirs)  # the kernel dropped its locks
    finally:
        release_ports(theirs)


def test_released_ports_are_free_to_pick_again() -> None:
    picked = pick_free_ports(3)
    assert set(picked) <= reserved_ports()
    release_ports(picked)
    assert not set(picked) & reserved_ports()
    assert all(ports._reserve(port) for port in picked)
    release_ports(picked)
