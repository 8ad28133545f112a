"""CPU per scrape of the harness's exposition parser against prometheus_client's, on the
metrics every service of the reference shop serves after some traffic.

    python bench/metrics_parse_bench.py [--repeat 50]

Prints the CPU seconds per parse of each and their ratio (CPU time: stable on a busy
machine where wall time is not).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from harness.observe.metrics import parse_metrics
from harness.runtime import start_system
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent


def _cpu_per_call(parse: object, texts: list[str], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for text in texts:
            parse(text)  # type: ignore[operator]
    return (time.process_time() - started) / (repeat * len(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    topology = load_topology(ROOT / "target-system" / "system.toml")
    with start_system(topology) as system, httpx.Client(timeout=10) as client:
        for _ in range(20):
            client.get(f"{system.url('gateway')}/api/products")
        texts = [client.get(f"{system.url(name)}/metrics").text for name in topology.services]
    lines = sum(text.count("\n") for text in texts)
    library = _cpu_per_call(lambda t: list(text_string_to_metric_families(t)), texts, args.repeat)
    ours = _cpu_per_call(parse_metrics, texts, args.repeat)
    print(f"{len(texts)} services, {lines / len(texts):.0f} lines per scrape on average")
    print(f"prometheus_client: {library * 1000:.2f} ms CPU per scrape")
    print(f"harness parser:    {ours * 1000:.2f} ms CPU per scrape")
    print(f"ratio: {library / ours:.1f}x less CPU")


if __name__ == "__main__":
    main()
