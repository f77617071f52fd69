"""Context lookup benchmark: in-process and over HTTP, on a store of generated profiles.

Usage (from the repository root)::

    .venv/bin/python bench/context_bench.py                 # 100k customers, build if needed
    .venv/bin/python bench/context_bench.py --customers 20000 --seconds 5

It builds (once, then reuses) ``bench/out/context_<N>.db`` from the demo generator through the
real map -> store -> resolve -> snapshot path, then prints:

* in-process p50/p99 of ``lookup.by_email`` + render (JSON bytes, and text) over random emails,
  first touch (a fresh connection, every key once) and warm;
* HTTP p50/p99 and requests/s against ``context-service serve`` (granian, one worker) on
  loopback, for JSON and for text, driven by ``wrk`` (``apt-get install wrk``) with a Lua
  script that cycles through the sampled emails, or by an asyncio httpx client when wrk is
  absent (that client is slower than the server, so its figures are a floor); with wrk, also
  ``GET /health`` under the same load, the framework's floor on this machine at this moment;
  the server gets ``--warmup`` seconds (2) of the JSON load first, unmeasured, so the figures
  are warm (the in-process first-touch line shows the cold cost);
* the server's CPU time per request (user + system of the server process and its workers,
  from ``/proc``): unlike requests/s it hardly moves when other work shares the cores, so it is
  the figure to compare between runs on a busy machine (the load average is printed too).

The per-key rate limit is off unless ``--rate-limit N`` (requests a minute per key) is given:
the default of 600 a minute would answer most of the load with 429.

Figures are printed, never asserted; the README quotes them with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from context_service.snapshot import lookup
from context_service.store import Store

OUT = Path(__file__).resolve().parent / "out"
KEY = "bench-key"


def _forget_earlier_reads(path: Path) -> None:
    """Drop the read-audit rows of earlier runs (every request is audited), so that each run
    starts from the same store instead of one that grew by millions of rows."""
    store = Store(path)
    try:
        with store.transaction() as conn:
            conn.execute("DELETE FROM read_audit")
        with store.maintenance() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()


def build_store(customers: int) -> Path:
    """Build the benchmark store once; reuse it when it already holds the profiles."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"context_{customers}.db"
    if path.exists():
        _forget_earlier_reads(path)
        return path
    from context_service.demo import generate_demo
    from context_service.sync import IngestContext, RawPayload, ingest_all
    from context_service.wiring import default_mappers

    store = Store(path)
    started = time.perf_counter()
    payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(customers))
    report = ingest_all(store, payloads, IngestContext(mappers=default_mappers()), batch_size=2000)
    elapsed = time.perf_counter() - started
    profiles = store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    print(
        f"built {path.name}: {report.seen} payloads, {profiles} profiles in {elapsed:.0f} s "
        f"({report.seen / elapsed:.0f} payloads/s)"
    )
    store.close()
    return path


def sample_emails(path: Path, count: int, seed: int = 1) -> list[str]:
    """Random emails that resolve to exactly one profile."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT i.value FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE i.kind = 'email' AND i.strong = 1 GROUP BY i.value "
        "HAVING count(DISTINCT m.profile_id) = 1"
    ).fetchall()
    conn.close()
    random.Random(seed).shuffle(rows)
    return [row[0] for row in rows[:count]]


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return p50, p99


def in_process(path: Path, emails: list[str], fmt: str) -> tuple[list[int], list[int]]:
    """Time lookup + render per email: first touch on a fresh connection, then warm."""
    store = Store(path)
    conn = store.conn

    def one(email: str) -> int:
        start = time.perf_counter_ns()
        stored = lookup.by_email(conn, email)
        body = stored.json if fmt == "json" else stored.text.encode()
        assert body
        return time.perf_counter_ns() - start

    first = [one(e) for e in emails]
    warm = [one(e) for _ in range(3) for e in emails]
    store.close()
    return first, warm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path, port: int, rate_limit: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONTEXT_SERVICE_DB": str(path),
        "CONTEXT_SERVICE_API_KEYS": KEY,
        "CONTEXT_SERVICE_LOG_LEVEL": "WARNING",
        # Throughput of the service, not of the per-key abuse limit (600 a minute by default).
        "CONTEXT_SERVICE_RATE_LIMIT_PER_MINUTE": str(rate_limit),
        "CONTEXT_SERVICE_WORKERS": str(workers),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "context_service.cli", "serve", "--port", str(port)],
        env=env,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


async def http_load(
    port: int, emails: list[str], fmt: str, seconds: float, concurrency: int
) -> tuple[list[int], int, float]:
    """Hammer GET /v1/context for a fixed time with ``concurrency`` workers."""
    latencies: list[int] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        limits=limits,
        headers={"Authorization": f"Bearer {KEY}"},
    ) as client:
        deadline = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                email = emails[i % len(emails)]
                i += concurrency
                start = time.perf_counter_ns()
                response = await client.get("/v1/context", params={"email": email, "format": fmt})
                latencies.append(time.perf_counter_ns() - start)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by ``pid`` and its descendants."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, cpu seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, total = {pid}, 0.0
    for child in sorted(stats):  # children have higher pids than their parents here
        if child in tree or stats[child][0] in tree:
            tree.add(child)
            total += stats[child][1]
    return total


_WRK_SCRIPT = """
local emails = {%s}
local i = 0
request = function()
  i = i + 1
  local path = "/v1/context?format=%s&email=" .. emails[(i %% #emails) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Bearer %s"})
end
"""


def wrk_load(
    port: int, emails: list[str] | None, fmt: str, seconds: float, concurrency: int
) -> tuple[float, float, float, str, int]:
    """Run wrk with 2 threads against GET /v1/context (or /health when ``emails`` is None);
    return requests/s, p50 ms, p99 ms, the non-2xx line and the number of requests."""
    target = [f"http://127.0.0.1:{port}/health"]
    if emails is not None:
        script = OUT / "wrk_context.lua"
        quoted = ",".join(f'"{e}"' for e in emails)
        script.write_text(_WRK_SCRIPT % (quoted, fmt, KEY))
        target = ["-s", str(script), f"http://127.0.0.1:{port}"]
    result = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", *target],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"50%\s+([\d.]+)(\w+)", out))
    p99 = _wrk_ms(re.search(r"99%\s+([\d.]+)(\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, f"{errors.group(1) if errors else 0} errors", count


def _wrk_ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="granian worker processes")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load before measuring (wrk only)"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="requests a minute per key (default: off)"
    )
    args = parser.parse_args()

    path = build_store(args.customers)
    profiles = sqlite3.connect(path).execute("SELECT count(*) FROM profiles").fetchone()[0]
    emails = sample_emails(path, args.samples)
    print(f"store: {path.name}, {profiles} profiles, {len(emails)} sampled emails")
    for fmt in ("json", "text"):
        first, warm = in_process(path, emails, fmt)
        f50, f99 = percentiles(first)
        w50, w99 = percentiles(warm)
        print(
            f"in-process lookup+render ({fmt}): first touch p50 {f50:.1f} us p99 {f99:.1f} us;"
            f" warm p50 {w50:.1f} us p99 {w99:.1f} us (mean {statistics.mean(warm) / 1000:.1f})"
        )

    port = free_port()
    server = start_server(path, port, args.rate_limit, args.workers)
    limit = f"rate limit {args.rate_limit}/min" if args.rate_limit else "rate limit off"
    workers = f"{args.workers} worker" + ("s" if args.workers > 1 else "")
    try:
        cycled = emails[:2000]
        runs: list[tuple[str, list[str] | None]] = [("json", cycled), ("text", cycled)]
        if shutil.which("wrk"):
            runs.append(("health", None))
            if args.warmup > 0:  # the new server's page cache and code paths, not the figures
                wrk_load(port, cycled, "json", args.warmup, args.concurrency)
        for fmt, sample in runs:
            cpu_before = process_tree_cpu(server.pid)
            if shutil.which("wrk"):
                client = "wrk -t2"
                rps, p50, p99, errors, count = wrk_load(
                    port, sample, fmt, args.seconds, args.concurrency
                )
            else:
                client = "httpx asyncio"
                lat, failed, elapsed = asyncio.run(
                    http_load(port, emails, fmt, args.seconds, args.concurrency)
                )
                us50, us99 = percentiles(lat)
                rps, p50, p99, count = len(lat) / elapsed, us50 / 1000, us99 / 1000, len(lat)
                errors = f"{failed} errors"
            cpu_us = (process_tree_cpu(server.pid) - cpu_before) / max(count, 1) * 1e6
            what = "GET /health" if sample is None else f"GET /v1/context ({fmt}, {limit})"
            print(
                f"HTTP {what}, {args.concurrency} connections, {client}, granian {workers}:"
                f" {rps:.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, {errors};"
                f" server CPU {cpu_us:.0f} us/request; load average"
                f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
