"""CPU seconds used by groups of processes (load generator vs system under test).

A benchmark on a shared 2-core machine means little without knowing who burned the CPU:
`CpuMeter` samples each group's processes and their descendants, remembering the last
figure seen per process so a worker that exits early still counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import psutil

__all__ = ["CpuMeter"]


class CpuMeter:
    """Cumulative user+system CPU seconds per named group of root pids (and descendants).

    Call `sample()` now and then (every second or so) while the processes run; `used()`
    gives the CPU spent since the meter was created.
    """

    def __init__(self, groups: Mapping[str, Iterable[int] | Callable[[], Iterable[int]]]) -> None:
        # A callable is asked for its roots at every sample: a restarted service's new pid counts.
        self._providers = {name: pids for name, pids in groups.items() if callable(pids)}
        self._roots = {name: [] if callable(pids) else list(pids) for name, pids in groups.items()}
        self._seen: dict[str, dict[int, float]] = {name: {} for name in self._roots}
        self._baseline: dict[str, dict[int, float]] = {}
        self.sample()
        self._baseline = {name: dict(seen) for name, seen in self._seen.items()}

    def add(self, group: str, pid: int) -> None:
        """Count another root process (e.g. a worker started later) in `group`."""
        self._roots.setdefault(group, []).append(pid)
        self._seen.setdefault(group, {})

    def sample(self) -> None:
        for group, roots in self._roots.items():
            seen = self._seen[group]
            provider = self._providers.get(group)
            for process in _tree([*roots, *(provider() if provider else [])]):
                try:
                    times = process.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                seen[process.pid] = max(seen.get(process.pid, 0.0), times.user + times.system)

    def used(self) -> dict[str, float]:
        """CPU seconds per group since the meter started (processes started later count whole)."""
        self.sample()
        used = {}
        for group, seen in self._seen.items():
            baseline = self._baseline.get(group, {})
            used[group] = sum(cpu - baseline.get(pid, 0.0) for pid, cpu in seen.items())
        return used


def _tree(roots: Iterable[int]) -> list[psutil.Process]:
    processes: dict[int, psutil.Process] = {}
    for pid in roots:
        try:
            root = psutil.Process(pid)
            found = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for process in found:
            processes[process.pid] = process
    return list(processes.values())
