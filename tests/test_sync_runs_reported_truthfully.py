"""What ``sync`` says of a run: one refused because another of its source is live is not "recorded
as failed" (nothing of it is recorded), and the snapshots a run killed during its final build
left queued, which the next run builds first, count among that run's profiles rebuilt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.sync import IngestContext, RawPayload, ingest_batch, run_sync, utc_now
from tests.cli_process import run_cli
from tests.payloads import zendesk_user
from tests.sync.test_runner import ListConnector, ListStream


def test_a_sync_refused_while_another_runs_records_nothing_and_says_no_more(
    tmp_path: Path,
) -> None:
    db = tmp_path / "refused.db"
    store = Store(db)
    try:  # a run of this very (live) test process: ``sync`` must not start another
        with store.transaction() as conn:
            cursor_store.start_run(conn, "stripe", "full", utc_now())
    finally:
        store.close()
    done = run_cli(
        "sync",
        "stripe",
        db=db,
        CONTEXT_SERVICE_STRIPE_API_KEY="sk_test_refused",
        CONTEXT_SERVICE_STRIPE_BASE_URL="http://127.0.0.1:9",  # never asked
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: a full sync of stripe is already running")
    assert "recorded as failed" not in line
    assert "resumes" not in line
    assert "sync failed" not in done.stdout  # no report of a run that never was
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT status FROM sync_runs").fetchall()
    assert runs == [("running",)]  # the live one only


def test_the_snapshots_a_killed_run_left_queued_count_as_rebuilt(
    store: Store, ctx: IngestContext
) -> None:
    people = [zendesk_user(i, f"Person{i} Test", email=f"p{i}@example.com") for i in range(7)]
    with store.transaction():  # a killed run's last pages: committed, their snapshots queued
        report = ingest_batch(store, [RawPayload(*p) for p in people], ctx, defer_snapshots=True)
    queued = store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0]
    assert queued == report.profiles_changed == 7
    outcome = run_sync(store, ListConnector(ListStream([])), ctx)  # nothing new to sync
    assert outcome.status == "ok"
    assert outcome.report.profiles_changed == 7
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0
