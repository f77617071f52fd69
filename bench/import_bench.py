"""Spreadsheet import benchmark: a generated customer CSV into a fresh store, twice.

    .venv/bin/python bench/import_bench.py                 # 100,000 rows
    .venv/bin/python bench/import_bench.py --rows 20000

The CSV looks like a shop's customer/order export: one row per order, so about a fifth of the
rows repeat a person seen earlier (with the phone written another way, so their content hash
differs and identity resolution has to merge them by email), a third of the rows carry an
order, and one row in a thousand has a broken email. It is imported through
``context_service.sheets.import_file`` (the ``context-service import`` path: read -> map ->
store -> resolve, snapshots rebuilt once at the end) into a fresh SQLite store with resolution
on; the figure is rows/s end to end. Then the same file is imported again, which must change
nothing.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from context_service.demo import _data as data
from context_service.sheets import ImportReport, import_file
from context_service.store import Store
from context_service.sync import IngestContext
from context_service.wiring import default_mappers

HEADER = [
    "Email",
    "First Name",
    "Last Name",
    "Phone",
    "Company",
    "Address",
    "City",
    "Zip",
    "Country",
    "Order Number",
    "Order Date",
    "Total",
    "Currency",
    "Payment Status",
]


def _person(rng: random.Random, index: int) -> dict[str, str]:
    first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
    domain = rng.choice(data.PERSONAL_DOMAINS)
    city, state, zip_prefix, area = rng.choice(data.US_CITIES)
    digits = f"{rng.randrange(200, 999)}555{index % 10000:04d}"
    company = f"{rng.choice(data.COMPANY_WORDS_A)} {rng.choice(data.COMPANY_WORDS_B)}"
    return {
        "Email": f"{first}.{last}.{index}@{domain}".lower().replace(" ", ""),
        "First Name": first,
        "Last Name": last,
        "Phone": digits,
        "Company": company if rng.random() < 0.4 else "",
        "Address": f"{rng.randrange(1, 9999)} {rng.choice(data.STREET_NAMES)} St",
        "City": city,
        "Zip": f"{zip_prefix}{rng.randrange(100, 999)}"[:5],
        "Country": "US",
        "_area": area + state,
    }


def _phone_variant(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write ``rows`` customer/order rows to ``path``."""
    rng = random.Random(seed)
    people: list[dict[str, str]] = []
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, HEADER, extrasaction="ignore")
        writer.writeheader()
        for i in range(rows):
            if people and rng.random() < 0.2:
                row = dict(rng.choice(people))
                row["Phone"] = _phone_variant(row["Phone"])
            else:
                row = _person(rng, i)
                people.append(dict(row))
            if rng.random() < 0.33:
                row["Order Number"] = f"#{10000 + i}"
                row["Order Date"] = f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}"
                row["Total"] = f"{rng.randrange(500, 50000) / 100:.2f}"
                row["Currency"] = "USD"
                row["Payment Status"] = rng.choice(("paid", "paid", "paid", "refunded", "pending"))
            if rng.random() < 0.001:
                row["Email"] = row["Email"].replace("@", " at ")
            writer.writerow(row)


def _cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process, and of its finished children (the snapshot
    worker): the machine is shared, so these are steadier than wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def run_import(db: Path, csv_path: Path) -> tuple[ImportReport, int]:
    """Import the CSV once; return the report and the sum of all profile versions after it."""
    cpu = _cpu_seconds()
    store = Store(db)
    try:
        report = import_file(
            store, csv_path, "customer-export", IngestContext(mappers=default_mappers())
        )
        versions = store.conn.execute("SELECT coalesce(sum(version), 0) FROM profiles").fetchone()
        main, workers = (after - before for after, before in zip(_cpu_seconds(), cpu, strict=True))
        print(
            f"  CPU: this process {main:.1f} s ({report.rows_read / main:,.0f} rows per "
            f"CPU-second), snapshot worker {workers:.1f} s"
        )
        return report, int(versions[0])
    finally:
        store.close()


def describe(label: str, report: ImportReport) -> None:
    rec = report.records
    print(
        f"{label}: {report.rows_read:,} rows in {report.seconds:.1f} s = "
        f"{report.rows_per_second:,.0f} rows/s; {report.rows_rejected} rejected; records "
        f"{rec.inserted:,} new, {rec.updated:,} updated, {rec.unchanged:,} unchanged; "
        f"{report.profiles_rebuilt:,} profile snapshots rebuilt"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="keep the CSV and store here")
    args = parser.parse_args()
    if args.dir is None:  # a store of about 400 MB: removed afterwards unless asked to keep it
        with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
            return _bench(Path(scratch), args.rows)
    args.dir.mkdir(parents=True, exist_ok=True)
    return _bench(args.dir, args.rows)


def _bench(workdir: Path, rows: int) -> int:
    """Generate the CSV in ``workdir``, import it twice into a fresh store there, report."""
    csv_path, db = workdir / "customers.csv", workdir / "import.db"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    write_csv(csv_path, rows)
    size = csv_path.stat().st_size
    took = time.perf_counter() - started
    print(f"generated {rows:,} rows ({size / 1e6:.1f} MB) in {took:.1f} s")

    first, versions = run_import(db, csv_path)
    describe("first import", first)
    store = Store(db)
    profiles = store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"profiles: {profiles:,}; peak RSS {peak_mb:.0f} MB")
    for rejection in first.rejections[:3]:
        print(f"  rejected line {rejection.line}: {rejection.reason}")

    second, versions_after = run_import(db, csv_path)
    describe("second import", second)
    changed = second.records.inserted + second.records.updated + second.profiles_rebuilt
    print(f"profile versions before/after the second import: {versions:,} / {versions_after:,}")
    if changed or versions != versions_after:
        print("FAIL: importing the same file again changed the store", file=sys.stderr)
        return 1
    print("second import changed nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
