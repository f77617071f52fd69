"""Sidebar widget benchmark: HTML size per demo persona and server-side render time.

Usage (from the repository root)::

    .venv/bin/python bench/widget_bench.py                     # 1,000 demo customers
    .venv/bin/python bench/widget_bench.py --customers 10000 --iterations 5000

It builds (once, then reuses) ``bench/out/widget_<N>.db`` from the demo generator through the
real ingest path, then for each persona prints the card's size and:

* in-process p50/p99 of ``widget_page`` (verify the signed link, look the customer up, decode
  the snapshot, read the identity links, render the HTML), warm;
* HTTP p50/p99 of ``GET /widget`` against ``context-service serve`` on loopback, one request at
  a time (the latency an agent's sidebar sees from this machine).

Figures are printed, never asserted; the README quotes them with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

from context_service.demo import generate_demo
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.tools import CustomerRef, find_stored
from context_service.widget import bind, sign, signing_key, widget_page
from context_service.wiring import default_mappers

OUT = Path(__file__).resolve().parent / "out"
KEY = "bench-key"
SECRET = "bench-widget-secret-0123456789"  # signs the links, as a deployment sharing them would
PERSONAS = {
    "Maya Patel": {"email": "maya.patel@example.com"},
    "Tomás García": {"email": "tomas.garcia@example.com"},
    "Lee Wong": {"email": "lee.wong@example.com"},
    "Maya by phone": {"phone": "+14155550134"},
}


def build_store(customers: int) -> Path:
    """Build the benchmark store once; reuse it afterwards."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"widget_{customers}.db"
    if not path.exists():
        store = Store(path)
        payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(customers))
        ingest_all(store, payloads, IngestContext(mappers=default_mappers()), batch_size=2000)
        store.close()
    return path


def _query(db: Path, lookup: dict[str, str]) -> list[tuple[str, str]]:
    """A link as ``POST /v1/widget/url`` mints it: the profile id, bound to the identifier."""
    key = signing_key(SECRET, None)
    store = Store(db)
    try:
        ref = CustomerRef(**lookup)
        profile_id = find_stored(store.conn, ref, "US").profile_id
        bound = bind(store.conn, ref, profile_id, key, "US")
    finally:
        store.close()
    return list(sign({"p": profile_id}, key, int(time.time()) + 3600, bound=bound).items())


def _percentiles(samples_us: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_us)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def in_process(db: Path, lookup: dict[str, str], iterations: int) -> tuple[int, float, float]:
    """Card size in bytes, and p50/p99 render time in microseconds."""
    store = Store(db)
    key = signing_key(SECRET, None)
    query = _query(db, lookup)
    page = widget_page(store.conn, query, key, "US", datetime.now(UTC))
    assert page.status == 200, page.html
    samples = []
    for _ in range(iterations):
        started = time.perf_counter_ns()
        widget_page(store.conn, query, key, "US", datetime.now(UTC))
        samples.append((time.perf_counter_ns() - started) / 1000)
    store.close()
    return (len(page.html.encode()), *_percentiles(samples))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def over_http(db: Path, iterations: int) -> dict[str, tuple[float, float]]:
    """p50/p99 milliseconds of sequential ``GET /widget`` per persona against a real server."""
    port = _free_port()
    env = {
        **os.environ,
        "CONTEXT_SERVICE_DB": str(db),
        "CONTEXT_SERVICE_API_KEYS": KEY,
        "CONTEXT_SERVICE_WIDGET_SECRET": SECRET,
        "CONTEXT_SERVICE_PORT": str(port),
        "CONTEXT_SERVICE_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "context_service.cli", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        with httpx.Client(base_url=base) as client:
            _wait(client)
            for name, lookup in PERSONAS.items():
                url = "/widget?" + urlencode(_query(db, lookup))
                samples = []
                for _ in range(iterations):
                    started = time.perf_counter_ns()
                    assert client.get(url).status_code == 200
                    samples.append((time.perf_counter_ns() - started) / 1e6)
                results[name] = _percentiles(samples)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return results


def _wait(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--http-iterations", type=int, default=300)
    args = parser.parse_args()
    db = build_store(args.customers)
    print(f"store: {db} ({args.customers} demo customers)\n")
    print(f"{'persona':<16} {'HTML bytes':>10} {'render p50':>11} {'render p99':>11}")
    for name, lookup in PERSONAS.items():
        size, p50, p99 = in_process(db, lookup, args.iterations)
        print(f"{name:<16} {size:>10,} {p50:>9.0f}us {p99:>9.0f}us")
    print(f"\n{'persona':<16} {'HTTP p50':>10} {'HTTP p99':>10}   (GET /widget, sequential)")
    for name, (p50, p99) in over_http(db, args.http_iterations).items():
        print(f"{name:<16} {p50:>8.2f}ms {p99:>8.2f}ms")


if __name__ == "__main__":
    main()
