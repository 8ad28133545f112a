"""Benchmark: how `POST /orders` scales with concurrent requests.

    python bench/orders_concurrency.py [--orders 100] [--levels 1 4 16] [--rounds 3]
        [--target orders|gateway] [--topology FILE] [--compare OTHER_FILE]

Brings the reference shop up with the harness runtime (`target-system/system.toml`, every
edge through the embedded fault proxy, no toxic), creates one user and one product with
plenty of stock, then places `--orders` orders at each concurrency level (each order is a
whole saga: user check, price, reserve, charge, confirm, outbox). Levels are measured
`--rounds` times in turn and the table shows medians, so a shared, busy machine skews every
level alike.

Printed per level: orders/s, p50 and p95 latency, the throughput relative to the lowest
level (a service that handles one order at a time stays near 1.0x), the CPU the orders
process spent per order, and the CPU the whole shop used (in cores).

`--compare OTHER/system.toml` brings a second shop up beside the first (e.g. an older
checkout: `git archive <rev> target-system | tar -x -C /tmp/old`) and measures both in
alternation, round by round: on a machine whose load changes from minute to minute, that is
the comparison to trust. The orders CPU per order is the steadiest figure of the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from harness.runtime import RunningSystem, start_system
from harness.topology import load_topology

TOPOLOGY = Path(__file__).parents[1] / "target-system" / "system.toml"
TOKEN = {"Authorization": "Bearer demo-token"}
# Enough for any run: the saga must never fail for want of stock.
STOCK = 10_000_000
# The gateway's default rate limit (100/s) would measure the limiter, not the shop.
ENV = {"GATEWAY_RATE_LIMIT_RPS": "0", "LOG_LEVEL": "WARNING"}

console = Console()


@dataclass(frozen=True, slots=True)
class LevelResult:
    concurrency: int
    orders_per_s: float
    p50_ms: float
    p95_ms: float
    shop_cores: float
    cores_by_service: dict[str, float]
    failures: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class ShopCpu:
    """CPU seconds used by each service of the shop (its process group, children included)."""

    def __init__(self, system: RunningSystem) -> None:
        self.pids = {name: h.pid for name, h in system.services.items() if h.pid is not None}

    def seconds(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, pid in self.pids.items():
            used[name] = 0.0
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    times = process.cpu_times()
                    used[name] += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return used


def seed(system: RunningSystem) -> tuple[int, str]:
    """A user and a product with plenty of stock."""
    sku = f"SKU-{int(time.time() * 1000) % 10**12}"
    with httpx.Client(timeout=30) as client:
        user = client.post(
            system.url("users") + "/users",
            json={"name": "Bench", "email": f"bench-{uuid.uuid4().hex}@example.com"},
        )
        user.raise_for_status()
        product = {"sku": sku, "name": "Mug", "price_cents": 100, "stock": STOCK}
        client.post(system.url("inventory") + "/products", json=product).raise_for_status()
    return int(user.json()["id"]), sku


async def place_orders(
    url: str, body: dict[str, object], *, orders: int, concurrency: int, headers: dict[str, str]
) -> tuple[list[float], int, float]:
    """(latencies in s, failures, wall seconds) for `orders` orders, `concurrency` at a time."""
    numbers = iter(range(orders))
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for _ in numbers:
            key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
            started = time.perf_counter()
            response = await client.post(url, json=body, headers={**headers, **key})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                failures += 1

    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, failures, wall


def measure(
    system: RunningSystem, target: str, body: dict[str, object], *, orders: int, concurrency: int
) -> LevelResult:
    url = system.url(target) + ("/api/orders" if target == "gateway" else "/orders")
    headers = TOKEN if target == "gateway" else {}
    cpu = ShopCpu(system)
    cpu_before = cpu.seconds()
    latencies, failures, wall = asyncio.run(
        place_orders(url, body, orders=orders, concurrency=concurrency, headers=headers)
    )
    cpu_after = cpu.seconds()
    cores = {name: (cpu_after[name] - cpu_before[name]) / wall for name in cpu_after}
    return LevelResult(
        concurrency=concurrency,
        orders_per_s=len(latencies) / wall,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        shop_cores=sum(cores.values()),
        cores_by_service=cores,
        failures=failures,
    )


@dataclass(frozen=True, slots=True)
class Subject:
    """A shop under test: its label, the running system and the order body it is sent."""

    label: str
    system: RunningSystem
    body: dict[str, object]


def bring_up(stack: contextlib.ExitStack, topology_path: Path, label: str) -> Subject:
    topology = load_topology(topology_path)
    system_env = {**topology.system.env, **ENV}
    topology = topology.model_copy(
        update={"system": topology.system.model_copy(update={"env": system_env})}
    )
    home = stack.enter_context(tempfile.TemporaryDirectory(prefix="orders-bench-"))
    console.print(f"starting {label} ({topology_path}) ...")
    system = stack.enter_context(start_system(topology, home=Path(home)))
    user, sku = seed(system)
    body: dict[str, object] = {
        "user_id": user,
        "items": [{"sku": sku, "quantity": 1}],
        "card_token": "tok_visa",
    }
    return Subject(label, system, body)


def run_rounds(
    subjects: list[Subject], args: argparse.Namespace
) -> dict[tuple[str, int], list[LevelResult]]:
    """Every level of every subject, `args.rounds` times; subjects alternate who goes first."""
    for subject in subjects:
        measure(subject.system, args.target, subject.body, orders=args.warmup, concurrency=4)
    runs: dict[tuple[str, int], list[LevelResult]] = {
        (s.label, level): [] for s in subjects for level in args.levels
    }
    for number, level in itertools.product(range(args.rounds), args.levels):
        for subject in subjects if number % 2 == 0 else subjects[::-1]:
            result = measure(
                subject.system, args.target, subject.body, orders=args.orders, concurrency=level
            )
            runs[(subject.label, level)].append(result)
            console.print(
                f"  {subject.label:<10} c={level:<3} {result.orders_per_s:6.1f} orders/s  "
                f"p50 {result.p50_ms:5.0f} ms  p95 {result.p95_ms:5.0f} ms  "
                f"orders CPU {orders_cpu_ms(result):4.1f} ms/order"
            )
    return runs


def orders_cpu_ms(result: LevelResult) -> float:
    """CPU the orders process used per order placed (all its threads)."""
    return result.cores_by_service.get("orders", 0.0) / result.orders_per_s * 1000


def median(results: list[LevelResult], metric: Callable[[LevelResult], float]) -> float:
    return statistics.median(metric(r) for r in results)


def report(
    runs: dict[tuple[str, int], list[LevelResult]],
    subjects: list[Subject],
    args: argparse.Namespace,
) -> None:
    title = (
        f"POST /orders via {args.target}: {args.orders} orders per level, "
        f"median of {args.rounds} rounds"
    )
    table = Table(title=title)
    columns = ("shop", "concurrency", "orders/s", "p50 ms", "p95 ms", "vs c=1")
    for column in (*columns, "orders CPU ms/order", "shop cores", "failed"):
        table.add_column(column, justify="right")
    for subject in subjects:
        base = median(runs[(subject.label, min(args.levels))], lambda r: r.orders_per_s)
        for level in args.levels:
            results = runs[(subject.label, level)]
            throughput = median(results, lambda r: r.orders_per_s)
            table.add_row(
                subject.label,
                str(level),
                f"{throughput:.1f}",
                f"{median(results, lambda r: r.p50_ms):.0f}",
                f"{median(results, lambda r: r.p95_ms):.0f}",
                f"{throughput / base:.2f}x",
                f"{median(results, orders_cpu_ms):.1f}",
                f"{median(results, lambda r: r.shop_cores):.2f}",
                str(sum(r.failures for r in results)),
            )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100, help="orders per level and round")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20, help="orders placed before measuring")
    parser.add_argument("--target", choices=("orders", "gateway"), default="orders")
    parser.add_argument(
        "--topology", type=Path, default=TOPOLOGY, help="system.toml (default: the reference)"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="a second system.toml (e.g. an older checkout) brought up beside the first and "
        "measured in alternation with it",
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        subjects = [bring_up(stack, args.topology, "this")]
        if args.compare is not None:
            subjects.append(bring_up(stack, args.compare, "compared"))
        runs = run_rounds(subjects, args)
    report(runs, subjects, args)


if __name__ == "__main__":
    main()
