"""Benchmark: time from start to every service healthy, for a topology (default: the shop).

    .venv/bin/python tests/harness/bench_startup.py [--runs 5] [--topology FILE] [--compare]

Prints each run's start-up time (the same figure `harness up` prints), the best and the
median, and the load average, since this machine is shared. `--compare` also runs without
the topology's `preload` (every service a cold interpreter) to show what the fork server buys.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness.runtime import launch
from harness.topology import Topology, load_topology, parse_topology

REFERENCE = Path(__file__).parents[2] / "target-system" / "system.toml"


def measure(topology: Topology, runs: int, home: Path) -> list[float]:
    seconds = []
    for _ in range(runs):
        system = launch(topology, home=home)
        try:
            seconds.append(system.startup_seconds or 0.0)
        finally:
            system.stop()
    return seconds


def without_preload(topology: Topology) -> Topology:
    data = topology.model_dump(mode="json", by_alias=True)
    data["system"]["preload"] = []
    return parse_topology(data, source=topology.path or "<topology>")


def report(label: str, seconds: list[float]) -> None:
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    print(
        f"{label}: best {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s "
        f"over {len(seconds)} runs ({runs}); load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", type=Path, default=REFERENCE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also run without preload")
    args = parser.parse_args()
    topology = load_topology(args.topology)
    print(f"{len(topology.services)} services from {args.topology}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as home:
        started = time.monotonic()
        report("with preload (fork server)", measure(topology, args.runs, Path(home)))
        if args.compare:
            report("cold interpreters", measure(without_preload(topology), args.runs, Path(home)))
        print(f"total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
