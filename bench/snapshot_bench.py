"""Snapshot build benchmark: the cost of building one profile's stored snapshot.

    .venv/bin/python bench/snapshot_bench.py                  # 2,000 demo customers
    .venv/bin/python bench/snapshot_bench.py --customers 500 --rounds 5

It loads the demo data (personas plus synthetic customers) into a temporary store through the
real ingest path, reads every profile's records once, then times ``snapshot_rows``: assemble
the snapshot, remove payment numbers, secrets and other people's contacts from its free text,
encode the JSON and render the text, as every rebuild does (in the snapshot worker during a
sync or an import, and in each one-at-a-time ``ingest_batch`` call). It prints microseconds
per snapshot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from context_service.demo import generate_demo
from context_service.snapshot.assemble import load_profiles
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import snapshot_rows
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.wiring import default_mappers

NOW = "2026-11-30T00:00:00Z"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snapshot-bench-") as workdir:
        store = Store(Path(workdir) / "bench.db")
        try:
            ctx = IngestContext(mappers=default_mappers())
            payloads = generate_demo(args.customers)
            ingest_all(store, (RawPayload(p.source, p.kind, p.payload) for p in payloads), ctx)
            ids = [str(row[0]) for row in store.conn.execute("SELECT id FROM profiles")]
            links = DashboardLinks()
            loaded = load_profiles(store.conn, ids, links)
            started = time.perf_counter()
            for _ in range(args.rounds):
                snapshot_rows(loaded, links, NOW, "US")
            took = (time.perf_counter() - started) / args.rounds
        finally:
            store.close()
    print(
        f"{len(ids):,} profiles: {took / len(ids) * 1e6:.0f} us per snapshot "
        "(assemble, redact, encode, render), "
        f"{len(ids) / took:,.0f} snapshots/s on one core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
