"""Benchmark of the embedded fault proxy: throughput and latency through it vs direct.

    python bench/faultproxy_bench.py [--duration 3] [--rounds 3] [--requests 60]
    nox -s bench_faultproxy

Upstream is nginx (Debian's `nginx-light`, own config in a temp dir, free port) answering a
small fixed response; load is `wrk` at 1 and 32 connections, straight to nginx, through a
proxy of `python -m harness.faultproxy` (a process of its own, as the harness runs it) with no
toxic, and through a second proxy with an HTTP toxic installed that matches nothing (so every
request and response is parsed, and all pass). Runs alternate direct / proxy / http
for several rounds and the table shows medians, so a shared, busy machine skews all alike
(each ratio is the median of the per-round ratios). Then a
100 ms downstream latency toxic is added and sequential keep-alive requests measure the delay
it adds. Prints a table; targets (the real Toxiproxy 2.8.0 on this kind of machine): a
throughput ratio of at least 0.31 at 1 connection and 0.32 at 32, and a latency-toxic error
under 2 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
INSTALL_HINT = "apt-get install -y wrk nginx-light"
RESPONSE_BODY = "hello from nginx\n"
LATENCY_MS = 100
TARGET_RATIO = {1: 0.31, 32: 0.32}
# Installed on the "http" proxy: parses every exchange, matches none of them.
UNMATCHED_HTTP_TOXIC = {
    "type": "http_error",
    "name": "never",
    "attributes": {"path": "^/never-requested$"},
}
TARGET_LATENCY_ERROR_MS = 2.0

console = Console()


@dataclass
class WrkResult:
    requests_per_s: float
    p50_us: float
    p99_us: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_tools() -> tuple[str, str]:
    wrk = shutil.which("wrk")
    nginx = next((path for c in NGINX_CANDIDATES if (path := shutil.which(c))), None)
    if wrk is None or nginx is None:
        missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if path is None]
        console.print(
            f"[red]missing {', '.join(missing)}[/red]: this benchmark needs wrk and nginx "
            f"from Debian's packages. Install them with: [bold]{INSTALL_HINT}[/bold]"
        )
        sys.exit(2)
    return wrk, nginx


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 10000000;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "{body}"; }}
    }}
}}
"""


@contextlib.contextmanager
def running(argv: list[str], *, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_argv(nginx: str, tmp: Path, port: int) -> list[str]:
    conf = tmp / "nginx.conf"
    body = RESPONSE_BODY.replace("\n", "\\n")
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, body=body))
    return [nginx, "-p", str(tmp), "-c", str(conf)]


_UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def _micros(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(wrk: str, url: str, *, connections: int, duration: float) -> WrkResult:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return WrkResult(float(rps.group(1)), _micros(p50.group(1)), _micros(p99.group(1)))


def timed_requests(port: int, count: int) -> list[float]:
    """Seconds per GET on one keep-alive connection."""
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    times = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(request)
            _read_response(sock)
            times.append(time.perf_counter() - start)
    return times


def _read_response(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="direct/proxy run pairs")
    parser.add_argument("--requests", type=int, default=60, help="requests with latency toxic")
    args = parser.parse_args()
    wrk, nginx = find_tools()
    with tempfile.TemporaryDirectory(prefix="faultproxy-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        nginx_port, api_port = free_port(), free_port()
        proxy_argv = [sys.executable, "-m", "harness.faultproxy", "--port", str(api_port)]
        with (
            running(nginx_argv(nginx, tmp, nginx_port), port=nginx_port, log=tmp / "nginx.out"),
            running(proxy_argv, port=api_port, log=tmp / "faultproxy.log"),
            httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10.0) as api,
        ):
            created = api.post(
                "/proxies",
                json={
                    "name": "bench",
                    "listen": "127.0.0.1:0",
                    "upstream": f"127.0.0.1:{nginx_port}",
                },
            ).json()
            proxy_port = int(created["listen"].rsplit(":", 1)[1])
            http_proxy = api.post(
                "/proxies",
                json={
                    "name": "bench_http",
                    "listen": "127.0.0.1:0",
                    "upstream": f"127.0.0.1:{nginx_port}",
                },
            ).json()
            api.post("/proxies/bench_http/toxics", json=UNMATCHED_HTTP_TOXIC).raise_for_status()
            http_port = int(http_proxy["listen"].rsplit(":", 1)[1])
            ports = {"direct": nginx_port, "proxy": proxy_port, "http": http_port}
            report_throughput(wrk, ports, args.duration, args.rounds)
            report_latency_toxic(api, nginx_port, proxy_port, args.requests)
    return 0


def _median_ratio(runs: list[WrkResult], baseline: list[WrkResult]) -> float:
    return statistics.median(
        r.requests_per_s / b.requests_per_s for b, r in zip(baseline, runs, strict=True)
    )


def report_throughput(wrk: str, ports: dict[str, int], duration: float, rounds: int) -> None:
    """`ports`: direct, proxy (no toxic), http (a proxy whose HTTP toxic matches nothing)."""
    table = Table(
        title=f"Small HTTP response (nginx) with wrk: direct vs through the fault proxy "
        f"(median of {rounds} alternating rounds of {duration:g} s)",
        caption="http: through a proxy with an HTTP toxic installed that matches nothing",
    )
    columns = ("conns", "path", "req/s", "p50", "p99", "vs direct", "vs no toxic", "target")
    for column in columns:
        table.add_column(column, justify="right")
    for connections in (1, 32):
        runs: dict[str, list[WrkResult]] = {path: [] for path in ports}
        for port in ports.values():  # warm up each
            run_wrk(wrk, f"http://127.0.0.1:{port}/", connections=connections, duration=1)
        for _ in range(rounds):
            for path, port in ports.items():
                url = f"http://127.0.0.1:{port}/"
                runs[path].append(run_wrk(wrk, url, connections=connections, duration=duration))
        target = TARGET_RATIO[connections]
        for path, results in runs.items():
            to_direct = to_plain = verdict = ""
            if path != "direct":
                ratio = _median_ratio(results, runs["direct"])
                to_direct = f"{ratio:.2f}"
            if path == "proxy":
                verdict = f">= {target} {'ok' if ratio >= target else 'MISSED'}"
            if path == "http":
                to_plain = f"{_median_ratio(results, runs['proxy']):.2f}"
            table.add_row(
                str(connections),
                path,
                f"{statistics.median(r.requests_per_s for r in results):,.0f}",
                f"{statistics.median(r.p50_us for r in results):,.0f} us",
                f"{statistics.median(r.p99_us for r in results):,.0f} us",
                to_direct,
                to_plain,
                verdict,
            )
    console.print(table)


def report_latency_toxic(api: httpx.Client, nginx_port: int, proxy_port: int, count: int) -> None:
    direct = timed_requests(nginx_port, count)
    plain = timed_requests(proxy_port, count)
    response = api.post(
        "/proxies/bench/toxics",
        json={"type": "latency", "attributes": {"latency": LATENCY_MS}},
    )
    response.raise_for_status()
    toxic = timed_requests(proxy_port, count)
    api.delete("/proxies/bench/toxics/latency_downstream").raise_for_status()
    table = Table(title=f"{LATENCY_MS} ms latency toxic, {count} keep-alive GETs each")
    for column in ("path", "min", "median", "max", "error vs 100 ms (median)"):
        table.add_column(column, justify="right")
    for label, times in (("direct", direct), ("proxy, no toxic", plain), ("proxy + toxic", toxic)):
        ms = [t * 1000 for t in times]
        error = ""
        if label == "proxy + toxic":
            value = statistics.median(ms) - LATENCY_MS
            verdict = "ok" if abs(value) < TARGET_LATENCY_ERROR_MS else "MISSED"
            error = f"{value:+.2f} ms ({verdict}, target < {TARGET_LATENCY_ERROR_MS:g} ms)"
        table.add_row(
            label,
            f"{min(ms):.2f} ms",
            f"{statistics.median(ms):.2f} ms",
            f"{max(ms):.2f} ms",
            error,
        )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
