"""Ingest benchmark: a full backfill from local mock Shopify and Stripe APIs over loopback HTTP.

    .venv/bin/python bench/ingest_bench.py                # ~50,000 records
    .venv/bin/python bench/ingest_bench.py --records 10000
    .venv/bin/python bench/ingest_bench.py --pages-in-memory

The mock APIs (``bench/mock_vendors.py``, the test suite's fakes behind a real HTTP server)
run in a separate process, page like the vendors do and answer some requests with 429. This
process runs ``context-service sync``'s code path for each source: HTTP paging with retries ->
map -> store -> resolve -> snapshot, one transaction per page. It prints records/s end to end
and the peak RSS of the sync process.

With ``--pages-in-memory`` every page is fetched first (not timed) and then handed to the same
``run_sync`` from memory: what is left is the store's side alone (map -> store -> resolve ->
snapshot, commits, cursors, the snapshot worker), without HTTP, JSON decoding or the mock APIs
sharing the cores (the peak RSS then includes the fetched pages).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from context_service.models import Page
from context_service.settings import load_settings
from context_service.store import Store
from context_service.sync import run_sync
from context_service.wiring import ingest_context
from integrations.shopify import ShopifyConnector
from integrations.stripe import StripeConnector

HERE = Path(__file__).resolve().parent
SHOPIFY_TOKEN = "shpat_fake_token_0123456789abcdef"
STRIPE_KEY = "sk_test_fake_51Hx0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mocks(records: int, throttle_every: int) -> tuple[subprocess.Popen[str], int, int]:
    shopify_port, stripe_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "mock_vendors.py"),
            "--shopify-port",
            str(shopify_port),
            "--stripe-port",
            str(stripe_port),
            "--records",
            str(records),
            "--throttle-every",
            str(throttle_every),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    print(f"mock APIs: {proc.stdout.readline().strip()}")
    return proc, shopify_port, stripe_port


class _Replayed:
    """A stream whose pages were fetched before the timing started."""

    def __init__(self, name: str, pages: list[Page]) -> None:
        self.name, self._pages = name, pages

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return iter(self._pages)


class InMemory:
    """A connector whose streams replay pages already fetched from ``connector``."""

    def __init__(self, connector: ShopifyConnector | StripeConnector) -> None:
        self.source = connector.source
        self._streams = [_Replayed(s.name, list(s.pages(None))) for s in connector.streams()]

    def streams(self) -> list[_Replayed]:
        return self._streams


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


RUSAGE_CHILDREN = resource.RUSAGE_CHILDREN


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _own_cpu_seconds() -> float:
    """This process's CPU so far; the figures count from the start of the timed part."""
    return _cpu_seconds(resource.RUSAGE_SELF)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument(
        "--throttle-every", type=int, default=200, help="every Nth request gets 429 Retry-After: 0"
    )
    parser.add_argument(
        "--pages-in-memory",
        action="store_true",
        help="fetch every page first, then time only the store's side (see the module doc)",
    )
    args = parser.parse_args()
    mocks, shopify_port, stripe_port = start_mocks(args.records, args.throttle_every)
    db = Path(tempfile.mkdtemp()) / "ingest_bench.db"
    store = Store(db)
    ctx = ingest_context(load_settings(environ={}))
    try:
        with httpx.Client(timeout=30) as client:
            connectors: list[Any] = [
                ShopifyConnector(
                    client,
                    shop="fake-shop",
                    access_token=SHOPIFY_TOKEN,
                    webhook_secret=None,
                    base_url=f"http://127.0.0.1:{shopify_port}",
                    page_size=100,
                ),
                StripeConnector(
                    client,
                    api_key=STRIPE_KEY,
                    webhook_secret=None,
                    base_url=f"http://127.0.0.1:{stripe_port}",
                ),
            ]
            if args.pages_in_memory:
                connectors = [InMemory(connector) for connector in connectors]
                mocks.terminate()
                mocks.wait()  # reaped now, so its CPU is not counted as the worker's below
            total_records, started = 0, time.perf_counter()
            cpu_before, children_before = _own_cpu_seconds(), _cpu_seconds(RUSAGE_CHILDREN)
            mock_cpu = 0.0 if args.pages_in_memory else -process_cpu_seconds(mocks.pid)
            for connector in connectors:
                t0 = time.perf_counter()
                outcome = run_sync(store, connector, ctx)
                elapsed = time.perf_counter() - t0
                seen = outcome.report.seen
                total_records += seen
                print(
                    f"{connector.source}: {outcome.status}, {outcome.pages} pages, {seen} records"
                    f" in {elapsed:.1f} s = {seen / elapsed:.0f} records/s"
                    + (f" ({outcome.error})" if outcome.error else "")
                )
        if not args.pages_in_memory:
            mock_cpu += process_cpu_seconds(mocks.pid)
    finally:
        mocks.terminate()
    elapsed = time.perf_counter() - started
    profiles = store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    worker_cpu = _cpu_seconds(RUSAGE_CHILDREN) - children_before  # the snapshot worker, joined
    print(
        f"total: {total_records} records, {profiles} profiles in {elapsed:.1f} s = "
        f"{total_records / elapsed:.0f} records/s end to end; peak RSS {peak_mb:.0f} MB; "
        f"db {os.path.getsize(db) / 1e6:.0f} MB"
    )
    mocks_part = (
        "not running (pages in memory)"
        if args.pages_in_memory
        else (f"{mock_cpu:.1f} s while serving")
    )
    print(
        f"CPU: sync process {cpu:.1f} s = {total_records / cpu:.0f} records per CPU-second; "
        f"snapshot worker {worker_cpu:.1f} s; mock APIs {mocks_part} "
        f"(all share the machine's {os.cpu_count()} cores)"
    )
    store.close()
    shutil.rmtree(db.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
