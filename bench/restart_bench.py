"""Benchmark: how long `RunningSystem.restart(service)` takes, against the reference shop.

    .venv/bin/python bench/restart_bench.py [--runs 3] [--services orders,payments]
        [--topology target-system/system.toml]

Starts the topology once with the process backend, then for each service restarts it
`--runs` times (the time from the call until the service answers its health path again,
which is what `restart` waits for), and kills it once for comparison. Prints each figure,
the median per service and the load average, since this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness.runtime import start_system
from harness.topology import load_topology

REFERENCE = Path(__file__).parents[1] / "target-system" / "system.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", type=Path, default=REFERENCE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", default="orders", help="comma-separated (default orders)")
    args = parser.parse_args()
    topology = load_topology(args.topology)
    with tempfile.TemporaryDirectory() as home, start_system(topology, home=Path(home)) as system:
        print(
            f"{topology.system.name}: up in {system.startup_seconds:.2f} s, {os.cpu_count()} CPUs"
        )
        for service in args.services.split(","):
            restarts = []
            for _ in range(args.runs):
                started = time.perf_counter()
                system.restart(service)
                restarts.append(time.perf_counter() - started)
            started = time.perf_counter()
            system.kill(service)
            killed = time.perf_counter() - started
            system.restart(service)
            shown = ", ".join(f"{s:.2f}" for s in restarts)
            print(
                f"{service}: restart median {statistics.median(restarts):.2f} s ({shown}); "
                f"kill {killed:.3f} s; load average {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
